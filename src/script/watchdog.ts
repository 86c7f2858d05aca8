/**
 * `--timeout` for scripts stuck in a synchronous loop: see watchdog-worker.ts.
 *
 * It runs on the TypeScript worker's thread (syntax/ts-worker.ts, as a
 * resident), not on a thread of its own: a worker thread is a whole Node
 * environment, and its own cost the development server 11–12 MB of RSS on
 * Node 22 and 24 (the demo site visited, with and without `--timeout 0`).
 * Its checks wait while that thread runs a job (a check after an edit, 5–20
 * ms; a site's first check, 0.5–1 s on the demo site): a stuck script is
 * stopped that much later. In production no job runs there once the start's
 * compile is done (unless a page is compiled after it).
 */
import { hostOnTsThread } from '../syntax/ts-worker.js';
import { CAN_INTERRUPT_SCRIPTS, RUNTIME_LABEL } from '../runtime.js';
import type { WatchdogInput } from './watchdog-worker.js';

export interface Watchdog {
  /** The number of scripts in flight (written at every start and end: also a sign of progress). */
  inFlight(count: number): void;
  stop(): Promise<void>;
}

/** Starts the watchdog; `timeoutSeconds` > 0. */
export function startWatchdog(timeoutSeconds: number): Watchdog {
  // [0] progress: bumped by a timer and at every script start and end; [1] scripts in flight.
  const buffer = new SharedArrayBuffer(16);
  const state = new Float64Array(buffer);
  const timeoutMs = timeoutSeconds * 1000;
  const input: WatchdogInput = { buffer, timeoutMs, interrupt: CAN_INTERRUPT_SCRIPTS, runtime: RUNTIME_LABEL };
  const hosted = hostOnTsThread(new URL('./watchdog-worker.js', import.meta.url).href, input);
  const beat = setInterval(() => state[0]++, Math.min(250, Math.max(5, timeoutMs / 8)));
  beat.unref();
  return {
    // No clock read per request: the watchdog thread notes when progress moves.
    inFlight(count) {
      state[0]++;
      state[1] = count;
    },
    async stop() {
      clearInterval(beat);
      await hosted.stop();
    },
  };
}
