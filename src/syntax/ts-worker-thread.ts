/**
 * The TypeScript worker's thread (see ts-worker.ts): runs the jobs it is
 * sent, one at a time (this room's first, see below). A job is either one of this
 * room's (`tsx-statements`, `heap`) or the URL of a module exporting
 * `run(input)`, loaded once (so the module may keep state between jobs,
 * as the type checker keeps its LanguageService). Every job shares the one
 * `typescript` module this thread loads.
 * In: `{ id, job, input }`. Out: `{ id, output }` or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import vm from 'node:vm';
import { printTopLevelJsx } from './tsx-statements.js';
import { keepCodeCache, loadTypescript, typescriptLoad } from './typescript.js';
import { reduceWhenIdle } from '../heap.js';

type ResidentMessage = { resident: number; url?: string; input?: unknown };
const { cacheDir, residents: firstResidents } = workerData as { cacheDir: string; residents: ResidentMessage[] };

type Run = (input: unknown) => unknown;

const builtin: Record<string, Run> = {
  'tsx-statements': (input) => {
    const { source, fileName } = input as { source: string; fileName: string };
    return printTopLevelJsx(source, fileName);
  },
  /** The thread's heap, for the memory bench and tests. */
  heap: () => v8.getHeapStatistics(),
  /** How its TypeScript was loaded (tests). */
  typescript: () => ({ version: loadTypescript(cacheDir).version, loadedBy: typescriptLoad() }),
};

const modules = new Map<string, Promise<Run>>();

function runnerOf(job: string): Promise<Run> | Run {
  const own = builtin[job];
  if (own) return own;
  let loaded = modules.get(job);
  if (!loaded) {
    loaded = import(job).then((m: { run?: Run }) => {
      if (typeof m.run !== 'function') throw new Error(`the job module ${job} exports no run function`);
      return m.run;
    });
    modules.set(job, loaded);
  }
  return loaded;
}

// One job at a time: a job module's state (the checker) is never used by two jobs at once.
// This room's jobs (a .tsx compile, which a request waits for) go before the queued module
// jobs (a type check per file, which nobody waits for).
const queued: Array<{ id: number; job: string; input: unknown }> = [];
let running = false;

async function drain(): Promise<void> {
  running = true;
  while (queued.length) {
    const first = queued.findIndex((m) => m.job in builtin);
    const [msg] = queued.splice(first >= 0 ? first : 0, 1);
    try {
      if (msg!.job !== 'heap') loadTypescript(cacheDir); // every job's TypeScript, from the code cache
      const output = await (await runnerOf(msg!.job))(msg!.input);
      parentPort!.postMessage({ id: msg!.id, output });
    } catch (err) {
      parentPort!.postMessage({ id: msg!.id, error: (err as Error)?.stack ?? String(err) });
    }
    if (!queued.length) {
      keepCodeCache();
      await collectGarbage();
    }
  }
  running = false;
}

/** Heap in use after the last collection this thread asked for. */
let settled = 0;
/** Garbage worth a collection once the queue is empty (a check leaves a program's worth; a .tsx pass little). */
const GARBAGE_MB = 16;

/**
 * A full collection once the jobs are done and they left garbage: every check
 * of an edited page makes a new program (tens of MB) and the old one is
 * garbage. V8 would let the old generation grow to twice the live data first
 * (heap.ts's growth percent, a process-wide flag the server needs), so the
 * thread held 100–115 MB for 70 live, and RSS grew with the edits. An eager
 * memory measurement is the one isolate-local way to ask V8 for a full
 * collection without exposing gc() to the whole process.
 */
async function collectGarbage(): Promise<void> {
  const used = v8.getHeapStatistics().used_heap_size;
  if (used - settled < GARBAGE_MB * 1024 * 1024) return;
  try {
    await vm.measureMemory({ execution: 'eager' });
  } catch {
    // Not on this runtime: V8 collects on its own schedule.
  }
  settled = v8.getHeapStatistics().used_heap_size;
}

// Memory given back once the jobs stop (heap.ts); it takes V8's gc() for this thread now, before TypeScript's code cache is read.
reduceWhenIdle();

// vm.measureMemory is experimental: its one warning would reach the server's console, meaning nothing to its user.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (text.includes('vm.measureMemory')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

/** Residents (ts-worker.ts's hostOnTsThread): their stop functions, by id. */
const stops = new Map<number, Promise<unknown>>();

function resident(msg: ResidentMessage): void {
  if (msg.url === undefined) {
    const stopping = stops.get(msg.resident);
    stops.delete(msg.resident);
    void stopping?.then((stop) => typeof stop === 'function' && stop());
    return;
  }
  const started = import(msg.url).then((m: { start?: (input: unknown) => unknown }) => {
    if (typeof m.start !== 'function') throw new Error(`the module ${msg.url} exports no start function`);
    return m.start(msg.input);
  });
  // Said, not thrown: a thrown error would end the thread, and ts-worker.ts would start another in a loop.
  const failed = (err: unknown): undefined => void process.stderr.write(`karrigell-ts: ${msg.url} failed on the TypeScript worker: ${(err as Error)?.message ?? err}\n`);
  stops.set(msg.resident, started.catch(failed));
}

for (const msg of firstResidents ?? []) resident(msg);

parentPort!.on('message', (msg: { id: number; job: string; input: unknown } | ResidentMessage) => {
  if ('resident' in msg) return resident(msg);
  queued.push(msg);
  if (!running) void drain();
});
