/** `--timeout` for scripts stuck in a synchronous loop: see watchdog-worker.ts. */
import { Worker } from 'node:worker_threads';

export interface Watchdog {
  start(): void;
  end(): void;
  stop(): Promise<void>;
}

/** Starts the watchdog thread; `timeoutSeconds` > 0. */
export function startWatchdog(timeoutSeconds: number): Watchdog {
  const buffer = new SharedArrayBuffer(16);
  const state = new Float64Array(buffer);
  state[0] = Date.now();
  const timeoutMs = timeoutSeconds * 1000;
  const worker = new Worker(new URL('./watchdog-worker.js', import.meta.url), { workerData: { buffer, timeoutMs } });
  worker.unref();

  worker.on('error', (err) => process.stderr.write(`karrigell-ts: the timeout watchdog failed: ${err.message}\n`));
  const beat = setInterval(() => (state[0] = Date.now()), Math.min(250, Math.max(5, timeoutMs / 8)));
  beat.unref();
  return {
    // No clock read per request: the beat is at most 1/8 of the timeout old
    // when a script starts, so a loop is stopped between 7/8 and all of it.
    start() {
      state[1]++;
    },
    end() {
      state[1]--;
    },
    async stop() {
      clearInterval(beat);
      await worker.terminate();
    },
  };
}
