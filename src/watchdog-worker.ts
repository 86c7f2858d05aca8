/**
 * The timeout watchdog's thread. The main thread writes a heartbeat (ms) from
 * a timer, the number of scripts in flight, and a progress count bumped at
 * every script start and end into shared memory. When scripts are in flight
 * and for the whole timeout neither the heartbeat nor the progress count
 * moved, the main thread is stuck in a synchronous loop: we stop the running
 * JavaScript through the inspector (`Runtime.terminateExecution`), and the
 * main thread goes on serving; the stuck request is answered 503.
 * (Timers do not run while the main thread works through a batch of ready
 * sockets, so the heartbeat alone would call a long batch of quick pages a
 * stall: their progress shows it is not one.)
 */
import { workerData } from 'node:worker_threads';
import { Session } from 'node:inspector';

const { buffer, timeoutMs } = workerData as { buffer: SharedArrayBuffer; timeoutMs: number };
const state = new Float64Array(buffer);

let progress = state[2]!;
let movedAt = Date.now();

// The session is connected only for the stop: a connected session would make the
// process wait for it at exit ("Waiting for the debugger to disconnect...").
setInterval(() => {
  const now = Date.now();
  if (state[2] !== progress) {
    progress = state[2]!;
    movedAt = now;
  }
  if (state[1]! > 0 && now - state[0]! > timeoutMs && now - movedAt > timeoutMs) {
    state[0] = now; // one stop per stall
    movedAt = now;
    const session = new Session();
    session.connectToMainThread();
    session.post('Runtime.terminateExecution', () => session.disconnect());
  }
}, Math.min(100, Math.max(10, timeoutMs / 10)));
