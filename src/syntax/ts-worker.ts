/**
 * The one TypeScript worker of the process: a worker thread holding the one
 * copy of the TypeScript compiler, which runs named jobs for whoever needs
 * TypeScript — the `.tsx` statement pass (here in `syntax/`) and the type
 * banner's checker (`typecheck/`, whose job module this room never imports:
 * it passes its URL, and the thread loads it).
 *
 * Why one: TypeScript is tens of MB of code and heap per isolate; two
 * workers held two copies (150–310 MB of RSS in development, issue 16).
 *
 * Its life: started by the first job; its heap bounded (`resourceLimits`);
 * stopped once it has been idle as long as its last jobs asked (`idleMs`,
 * 30 s by default: loading TypeScript again takes a few hundred ms, so it
 * stays for the next edit) or at once by `releaseTsWorker`; started again by
 * the next job. It holds the process open only while a job that asks so
 * runs (a compile a request waits for, not a background check).
 *
 * It also hosts the process's residents (`hostOnTsThread`: the timeout
 * watchdog), small modules that run for as long as the server does. Why on
 * this thread: a worker thread is a whole Node environment, 11–12 MB of RSS
 * on Node 22 and 24 (a development server on the demo site with and without
 * `--timeout 0`); the watchdog had one of its own beside this one. While there
 * are residents the thread stays: released, it is replaced by a fresh one that
 * holds only them (TypeScript's heap goes with the old one), and one that
 * crashed is replaced too. The cost: a resident's timers wait while a job
 * runs (a check after an edit takes 5–20 ms; the first of a site, 0.5–1 s for
 * the demo site, seconds for thousands of pages).
 */
import { Worker } from 'node:worker_threads';
import { cacheFolder } from '../cache.js';

/** A worker idle this long is stopped; the next job starts another. */
export const IDLE_MS = 30_000;
/**
 * Its old generation: the checker of a large site needs a few hundred MB; a
 * site too large fails its jobs with ERR_WORKER_OUT_OF_MEMORY instead of
 * growing the server without end.
 */
export const HEAP_MB = 384;
/**
 * Its young generation: V8 would let a worker's grow as large as the main
 * thread's (128 MB on Node 24: +120 MB of RSS over 300 edits). What TypeScript
 * allocates mostly lives (a program's syntax trees) or dies at once; 8 MB
 * instead of 16 saved 8–10 MB of RSS on the demo site, with no slower check.
 */
const YOUNG_MB = 8;

/** A job's name: a job of the thread itself (`tsx-statements`) or the URL of a module whose `run(input)` the thread calls. */
export type TsJob = string;

/** To the thread: a job, or a resident to start or stop. */
type Message = { id: number; job: TsJob; input: unknown } | { resident: number; url?: string; input?: unknown };

/** The thread's answer to one job. */
interface Reply {
  id: number;
  output?: unknown;
  error?: string;
}

/** Why a job failed when the worker itself stopped (`code`: ERR_WORKER_OUT_OF_MEMORY …). */
export interface TsWorkerError extends Error {
  code?: string;
  /** True when the worker stopped under the job (not an error of the job itself): another worker may do it. */
  workerStopped?: boolean;
}

interface Pending {
  resolve(output: unknown): void;
  reject(err: Error): void;
  idleMs: number;
  hold: boolean;
}

let worker: Worker | undefined;
/** Counts the workers started: tells a job's owner whether the worker that holds its state is still the current one. */
let generation = 0;
/** Whether the running worker was sent a job (it may hold TypeScript), not only residents. */
let working = false;
/** The residents (id → module URL and input), loaded by every worker at its start. */
const residents = new Map<number, { url: string; input: unknown }>();
let nextResident = 0;
let nextId = 0;
const pending = new Map<number, Pending>();
let idleTimer: NodeJS.Timeout | undefined;
/**
 * Jobs for a worker that is not online yet. Why they wait: its isolate's start
 * resets a V8 flag the server sets (heap.ts sets it again on 'online'), and V8
 * accepts TypeScript's code cache only under the flags it was made with. A
 * first job the thread ran before then loaded TypeScript under the reset flag,
 * where the cache made under the server's was rejected: TypeScript compiled
 * again (another code cache, and the parse's memory kept by the thread's
 * allocator).
 */
let notOnline: Message[] | undefined;
/** When the worker may stop: the latest end-of-job plus that job's idleMs. */
let idleUntil = 0;

function start(): Worker {
  const w = new Worker(new URL('./ts-worker-thread.js', import.meta.url), {
    workerData: { cacheDir: cacheFolder(), residents: [...residents].map(([id, r]) => ({ resident: id, ...r })) },
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, maxYoungGenerationSizeMb: YOUNG_MB },
  });
  // Residents keep nothing alive: like the watchdog's own thread before, the thread never holds the process open for them.
  w.unref();
  generation++;
  working = false;
  notOnline = [];
  w.once('online', () => {
    // After the other 'online' listeners (heap.ts's), which run in this same emit.
    queueMicrotask(() => {
      if (worker !== w) return;
      for (const msg of notOnline ?? []) w.postMessage(msg);
      notOnline = undefined;
    });
  });
  w.on('message', (reply: Reply) => {
    const job = pending.get(reply.id);
    if (!job || worker !== w) return;
    pending.delete(reply.id);
    idleUntil = Math.max(idleUntil, Date.now() + job.idleMs);
    if (![...pending.values()].some((p) => p.hold)) w.unref();
    if (!pending.size) armIdle();
    if (reply.error !== undefined) job.reject(new Error(reply.error));
    else job.resolve(reply.output);
  });
  // A crash (out of memory, a bug) fails the jobs of this worker; the next job starts another.
  const fail = (err: NodeJS.ErrnoException): void => {
    if (worker !== w) return;
    worker = undefined;
    keepResidents();
    const reason: TsWorkerError =
      err.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new Error(`the TypeScript worker needs more than its ${HEAP_MB} MB heap`)
        : new Error(`the TypeScript worker stopped: ${err.message}`);
    reason.code = err.code;
    reason.workerStopped = true;
    for (const job of pending.values()) job.reject(reason);
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`its thread exited with code ${code}`)));
  return w;
}

/**
 * A worker for the residents when none runs (started again after a crash or a
 * release). A thread that fails at its start does not loop: one start a second.
 */
let lastResidentStart = 0;
function keepResidents(): void {
  if (worker || !residents.size) return;
  const wait = Math.max(0, lastResidentStart + 1000 - Date.now());
  const timer = setTimeout(() => {
    if (worker || !residents.size) return;
    lastResidentStart = Date.now();
    try {
      worker = start();
    } catch (err) {
      process.stderr.write(`karrigell-ts: the server's worker thread could not start: ${(err as Error).message}\n`);
    }
  }, wait);
  timer.unref();
}

/**
 * Runs the module at URL on the TypeScript worker's thread for as long as the
 * handle is not stopped: its `start(input)` is called at once, and again on
 * each new worker (see above); what `start` returns, if a function, is called
 * to stop it. INPUT must be structured-cloneable (a SharedArrayBuffer is shared).
 */
export function hostOnTsThread(url: string, input: unknown): { stop(): Promise<void> } {
  const id = nextResident++;
  residents.set(id, { url, input });
  if (!worker) {
    lastResidentStart = Date.now();
    try {
      worker = start(); // its workerData lists this resident
    } catch (err) {
      residents.delete(id);
      throw err;
    }
  } else send({ resident: id, url, input });
  return {
    async stop() {
      if (!residents.delete(id)) return;
      const w = worker;
      if (!w) return;
      // The last resident of a thread with no work: the thread goes, as the watchdog's own did.
      if (!residents.size && !working && !pending.size) {
        worker = undefined;
        await w.terminate();
      } else send({ resident: id });
    },
  };
}

function send(msg: Message): void {
  if (notOnline) notOnline.push(msg);
  else worker?.postMessage(msg);
}

function armIdle(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (pending.size) return;
    if (Date.now() < idleUntil) return armIdle();
    void releaseTsWorker();
  }, Math.max(0, idleUntil - Date.now()));
  idleTimer.unref();
}

/**
 * Runs JOB with INPUT (structured-cloneable) on the TypeScript worker,
 * starting it if needed. The worker stays at least `idleMs` after the job;
 * with `hold` (the default) the job keeps the process alive until it ends.
 * Rejects with the job's error, or a `TsWorkerError` when the worker stopped.
 */
export function runTsJob<T>(job: TsJob, input: unknown, { idleMs = IDLE_MS, hold = true }: { idleMs?: number; hold?: boolean } = {}): Promise<T> {
  let w: Worker;
  try {
    w = worker ??= start();
  } catch (err) {
    // A runtime that cannot start it (or a missing file): the job fails with the reason, the server goes on.
    const reason: TsWorkerError = new Error(`the TypeScript worker could not start: ${(err as Error).message}`);
    reason.workerStopped = false;
    return Promise.reject(reason);
  }
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (hold) w.ref();
  else if (![...pending.values()].some((p) => p.hold)) w.unref();
  working = true;
  const id = nextId++;
  send({ id, job, input });
  return new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (o: unknown) => void, reject, idleMs, hold }));
}

/**
 * The number of the running worker (each start counts one), or undefined when
 * none runs a job's work (no worker, or a fresh one holding only residents).
 */
export function tsWorkerGeneration(): number | undefined {
  return worker && working ? generation : undefined;
}

/**
 * Stops the worker now if no job runs (production, once nothing compiles;
 * idle); a later job starts another. With `background`, also when the jobs
 * that run are background ones (`hold: false`, a check nobody waits for):
 * they fail as `workerStopped` (a server closing does not wait for a check).
 */
export async function releaseTsWorker({ background = false }: { background?: boolean } = {}): Promise<void> {
  const w = worker;
  // A worker with only residents holds nothing to release.
  if (!w || !working || (background ? [...pending.values()].some((p) => p.hold) : pending.size)) return;
  if (pending.size) {
    const reason: TsWorkerError = new Error('the TypeScript worker was stopped (its server closed)');
    reason.workerStopped = true;
    for (const job of pending.values()) job.reject(reason);
    pending.clear();
  }
  worker = undefined;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  idleUntil = 0;
  await w.terminate();
  // Its residents go on in a fresh worker (not two at once: two watchdogs would both stop one stalled script).
  if (residents.size && !worker) {
    lastResidentStart = Date.now();
    worker = start();
  }
}
