/**
 * The process's V8 heap: how much garbage it may hold, the same on every Node
 * line, so that memory stays bounded without the user tuning V8 flags.
 *
 * A server keeps data made by requests (sessions above all): it survives
 * scavenges, is promoted, and once evicted is garbage of the old generation.
 * Measured with 20 000 new 8 KB sessions and `--max-sessions 1000`
 * (`npm run bench:memory`), `--trace-gc` and v8.getHeapSpaceStatistics():
 *
 * 1. The young generation ("new space") doubles each time as many bytes as it
 *    holds have survived, up to a maximum fixed at the start: 32 MB on Node
 *    20 and 22, but 128 MB on Node 24 on a machine with 16 GB or more (V8
 *    13's scavenger_max_new_space_capacity_mb went from 8 to 32).
 *    That alone was +110 MB of RSS on Node 24. The maximum cannot change
 *    after the start, but V8 reads `--semi-space-growth-factor` at each
 *    growth: while the young generation is at YOUNG_MB it grows no further.
 * 2. The old generation runs a full collection when it has grown by a factor
 *    V8 picks between 1.1 and 4 from its speed estimates; Node 22 and 24 then
 *    keep the freed pages. Under the flood the old generation swung between
 *    30 and 80 MB. V8 reads `--heap-growing-percent` at each full collection:
 *    100 (collect when the heap has doubled since the last one, Go's GOGC
 *    default) keeps the garbage at most as large as the live data.
 *
 * Together: RSS growth over the flood went from +180 MB to +30–40 MB on Node
 * 24 (+80 to +25–35 MB on Node 22), with the bench's throughput unchanged. A flag the user gives (on the
 * command line or in NODE_OPTIONS) wins.
 *
 * The development server is bounded harder (`developmentFlags`): there the
 * TypeScript worker's checker, not sessions, is what memory goes to, and the
 * throughput matters far less than production's, which keeps the bounds above.
 * And its memory is given back when it idles (`reduceWhenIdle`, which the
 * TypeScript worker's thread runs too).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance, PerformanceObserver } from 'node:perf_hooks';

/**
 * The young generation's bound, as V8 counts it: the capacity of one of its two
 * semi-spaces (new_space's space_size; `--max-semi-space-size`). Node 20's and
 * 22's own maximum.
 */
const YOUNG_MB = 16;
/** Old generation: a full collection once it has grown by this percent since the last one. */
const OLD_GROWTH_PERCENT = 100;

let bounded = false;

/** The flags a user gave this process (command line or NODE_OPTIONS) among `flags`. */
function given(...flags: string[]): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.replace(/_/g, '-'));
  return args.some((a) => flags.some((f) => a.startsWith(f)));
}

/**
 * V8 flags for a Node process the server starts itself (a cluster worker): the
 * young generation's bound from its start, so that no growth has to be watched.
 */
export function heapFlags(): string[] {
  return given('--max-semi-space-size', '--semi-space-growth-factor') ? [] : [`--max-semi-space-size=${YOUNG_MB}`];
}

/**
 * Development: the young generation stays at V8's initial size (held from the
 * CLI's start, holdYoungGeneration, and again after each worker's start): the
 * development server was 8 / 2 / 9 MB smaller on Node 20 / 22 / 24 after
 * visiting the demo site, with the throughput of its pages unchanged within
 * this machine's noise (`npm run bench:memory`; wrk on /hello).
 */
const DEVELOPMENT_YOUNG_MB = 1;

/**
 * Development: V8 flags set before the TypeScript worker starts (flags are per
 * process; a flag a user gives wins).
 *
 * `--no-concurrent-recompilation`: an isolate created after it (the worker)
 * optimises its hot functions on its own thread instead of handing them to
 * V8's background threads. Each of those threads has its own glibc malloc
 * arena, and the optimising compiler's zones there (TypeScript's checker is
 * hot code) stayed in those arenas once freed: 16–20 MB of RSS on Node 22 and
 * 24, 10 on Node 20 (thread arenas of /proc/PID/smaps: 28–33 MB → 13 on Node
 * 24, 19–21 → 9–12 on Node 20, demo site visited). The server thread's own
 * isolate keeps its background compiler (V8 creates it with the isolate). The
 * check of the whole demo site took 0.57–0.63 s → 0.73–0.75 s on Node 24 and
 * 1.3–1.5 s → 1.0–1.2 s on Node 20; a check after an edit stayed 5–20 ms.
 */
function developmentFlags(): void {
  if (!given('--concurrent-recompilation', '--no-concurrent-recompilation')) v8.setFlagsFromString('--no-concurrent-recompilation');
}

type Gc = (options?: object) => void;
/**
 * Whether gc() takes the options that ask for that collection (V8 12 on, Node
 * 22 on). Node 20's V8 reads them otherwise (it ran a young-generation
 * collection): a plain gc() there, a full collection that does not compact.
 */
const OPTIONS_GC = Number(process.versions.v8?.split('.')[0]) >= 12;
/** This isolate's gc() (each thread loads this module for its own isolate); null where there is none. */
let isolateGc: Gc | null | undefined;

/**
 * V8's `gc()`, for this isolate only: the flag that exposes it is set for as
 * long as it takes to make one context, then cleared (V8 flags are the
 * process's; the server's own contexts and a page's never see it). Taken
 * before anything reads a code cache (the server's start, the TypeScript
 * thread's start): V8 accepts a cache only under the flags it was made with,
 * which are the same again once the flag is cleared. None on Bun.
 */
export function takeGc(): Gc | null {
  if (isolateGc !== undefined) return isolateGc;
  const own = (globalThis as { gc?: Gc }).gc;
  if (typeof own === 'function') return (isolateGc = own); // the user's --expose-gc
  isolateGc = null;
  try {
    v8.setFlagsFromString('--expose-gc');
    const exposed: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof exposed === 'function') isolateGc = exposed as Gc;
  } catch {
    // No V8 flags here.
  } finally {
    try {
      v8.setFlagsFromString('--no-expose-gc');
    } catch {
      // Idem.
    }
  }
  return isolateGc;
}

/**
 * V8's memory-reducing full collection of this isolate's heap (the one it
 * runs before it gives up for lack of memory): it compacts the old generation
 * and gives the freed pages back. V8's own memory reducer does this only
 * after some seconds of idling, and never for a worker's heap. 15–80 ms.
 * False where there is no gc().
 */
export function reduceMemory(): boolean {
  const gc = takeGc();
  if (!gc) return false;
  try {
    if (OPTIONS_GC) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    else gc();
    return true;
  } catch {
    return false;
  }
}

/** How often the development server looks whether it idles. */
const IDLE_CHECK_MS = 1000;
/** The heap's growth since the last reduction that is worth one. */
const REDUCE_GROWTH_MB = 2;

let watching = false;

/**
 * Once this thread's event loop has idled for a second (busy less than 2 %
 * of it) after its heap grew, reduceMemory; once per isolate (later calls do
 * nothing). Takes gc() at once (see takeGc: before any code cache is read).
 * The development server's thread: after a visit of the demo site, 3–7 MB
 * less of RSS on Node 22 and 24 (its heap 17.5 → 13 MB), in 15–30 ms of a
 * second in which no request came. The TypeScript worker's thread: a worker's
 * heap never has V8's own memory reducer, and kept the pages its checks had
 * used (64 MB of heap for 58 MB in use on Node 24 after the demo site's
 * checks): 7.5 MB less of RSS on Node 24, 3.5 MB on Node 22 (70–80 ms, on that
 * thread, once per burst of edits).
 */
export function reduceWhenIdle(): void {
  if (watching) return;
  watching = true;
  if (!takeGc() || typeof performance.eventLoopUtilization !== 'function') return;
  let since = performance.eventLoopUtilization();
  let reducedAt = 0;
  setInterval(() => {
    const busy = performance.eventLoopUtilization(since).utilization;
    since = performance.eventLoopUtilization();
    const total = v8.getHeapStatistics().total_heap_size;
    if (busy > 0.02 || total < reducedAt + REDUCE_GROWTH_MB * 1024 * 1024) return;
    reduceMemory();
    reducedAt = v8.getHeapStatistics().total_heap_size;
    since = performance.eventLoopUtilization();
  }, IDLE_CHECK_MS).unref();
}

/**
 * Called by the CLI before it loads the server's modules: the young generation
 * does not grow while they load (to 8 MB, 4–7 MB of it resident, on Node 20 to
 * 24). `boundHeap` then lets it grow to its bound in production, and keeps it
 * at V8's initial size in development.
 */
export function holdYoungGeneration(): void {
  if (!given('--max-semi-space-size', '--semi-space-growth-factor')) v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * Bounds the garbage of this process's heap (once; later calls do nothing);
 * `development`: the development server's bounds (see above).
 */
export function boundHeap(development = false): void {
  if (bounded) return;
  bounded = true;
  if (development) {
    developmentFlags();
    reduceWhenIdle();
  }
  const youngMb = development ? DEVELOPMENT_YOUNG_MB : YOUNG_MB;
  if (!given('--heap-growing-percent', '--max-old-space-size')) v8.setFlagsFromString(`--heap-growing-percent=${OLD_GROWTH_PERCENT}`);
  // A cluster worker started with heapFlags() has its bound already.
  if (given('--max-semi-space-size', '--semi-space-growth-factor')) return;
  // V8 also shrinks the young generation when the process idles (its memory
  // reducer), e.g. after the production start's compile: a growth stopped for
  // good would then keep it at 1 MB for the rest of the process's life, a
  // scavenge every megabyte, and HTTP/2 answered at 0.7 of node:http2. So the
  // growth is allowed again whenever the young generation is below the bound,
  // and stopped while it is at the bound: after every collection.
  let stopped: boolean | undefined;
  const adjust = (): void => {
    const big = (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) >= youngMb * 1024 * 1024;
    if (big === stopped) return;
    stopped = big;
    v8.setFlagsFromString(`--semi-space-growth-factor=${big ? 1 : 2}`);
  };
  adjust();
  new PerformanceObserver(adjust).observe({ entryTypes: ['gc'] });
  // V8 sets the growth factor back to 2 whenever it configures a new isolate's heap
  // (Heap::ConfigureHeap: "if (semi_space_growth_factor < 2) … = 2"): on Node 20 and
  // 22 every Worker (the TypeScript worker, the timeout watchdog, a page's own) undid
  // the bound, and the young generation grew on to V8's maximum (16 → 32 MB) although
  // it was "stopped" (test/memory-bounds.test.ts). Once a worker's isolate is up (its
  // 'online'), the bound is set again; a collection between its start and then may
  // still grow it one step.
  process.on('worker', (worker: { once(event: 'online', listener: () => void): unknown }) => {
    worker.once('online', () => {
      stopped = undefined;
      adjust();
    });
  });
}
