/** `--timeout` for scripts stuck in a synchronous loop: see watchdog-worker.ts. */
import { Worker } from 'node:worker_threads';
import { CAN_INTERRUPT_SCRIPTS, RUNTIME_LABEL } from '../runtime.js';

export interface Watchdog {
  /** The number of scripts in flight (written at every start and end: also a sign of progress). */
  inFlight(count: number): void;
  stop(): Promise<void>;
}

/** Starts the watchdog thread; `timeoutSeconds` > 0. */
export function startWatchdog(timeoutSeconds: number): Watchdog {
  // [0] progress: bumped by a timer and at every script start and end; [1] scripts in flight.
  const buffer = new SharedArrayBuffer(16);
  const state = new Float64Array(buffer);
  const timeoutMs = timeoutSeconds * 1000;
  const worker = new Worker(new URL('./watchdog-worker.js', import.meta.url), { workerData: { buffer, timeoutMs, interrupt: CAN_INTERRUPT_SCRIPTS, runtime: RUNTIME_LABEL } });
  worker.unref();

  worker.on('error', (err) => process.stderr.write(`karrigell-ts: the timeout watchdog failed: ${err.message}\n`));
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
      await worker.terminate();
    },
  };
}
