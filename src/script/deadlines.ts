/** `--timeout` for pages that await, and the in-flight count the watchdog (watchdog.ts) reads for pages that loop. */
import type { PageContext } from './context.js';

/** Told how many scripts are in flight at each start and end (the timeout watchdog). */
export interface InFlightTracker {
  inFlight(count: number): void;
}

/**
 * `--timeout`, and the count of scripts in flight that the watchdog reads.
 * One sweeping timer serves all requests (none per request), and runs only
 * while a script is in flight. A page that awaits is entered with its
 * deadline. A page that runs synchronously is only noted in `running`: no
 * timer can fire meanwhile, so a sweep that finds it there means the watchdog
 * stopped its loop (the stop unwinds past every catch and finally), and it is
 * answered then, or by the next page's `enter`, whichever comes first.
 * Every script is counted out exactly once: settled, finished or timed out.
 */
export interface Deadlines {
  /** A page starts running synchronously. */
  enter(ctx: PageContext): void;
  /** It returned (or threw) without awaiting. */
  settle(ctx: PageContext): void;
  /** It returned a promise: its deadline starts. */
  wait(ctx: PageContext): void;
  /** The promise settled: false if the deadline came first (it was answered). */
  finish(ctx: PageContext): boolean;
  close(): void;
}

export function createDeadlines(seconds: number, track: InFlightTracker | undefined, onTimeout: (ctx: PageContext) => void): Deadlines {
  if (!(seconds > 0)) return { enter() {}, settle() {}, wait() {}, finish: () => true, close() {} };
  const ms = seconds * 1000;
  const waiting = new Map<PageContext, number>();
  let running: PageContext | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  // The count is recomputed, never incremented: a stop landing between two of
  // these lines cannot leave it wrong for longer than the next change.
  const counted = (): void => track?.inFlight(waiting.size + (running ? 1 : 0));
  const stopRunning = (): void => {
    const stuck = running!;
    running = undefined;
    waiting.delete(stuck);
    counted();
    onTimeout(stuck);
  };
  const sweep = (): void => {
    if (running) stopRunning();
    const now = Date.now();
    for (const [ctx, deadline] of waiting) {
      if (deadline <= now) {
        waiting.delete(ctx);
        counted();
        onTimeout(ctx);
      }
    }
    if (!waiting.size && !running) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  return {
    enter(ctx) {
      if (running) stopRunning();
      running = ctx;
      counted();
      sweeper ??= setInterval(sweep, Math.min(250, Math.max(10, ms / 10))).unref();
    },
    settle(ctx) {
      if (running !== ctx) return;
      running = undefined;
      counted();
    },
    wait(ctx) {
      waiting.set(ctx, Date.now() + ms);
      running = undefined;
      counted();
    },
    finish(ctx) {
      if (!waiting.delete(ctx)) return false;
      counted();
      return true;
    },
    close() {
      clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}
