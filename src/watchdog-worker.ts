/**
 * The timeout watchdog's thread. The main thread writes a heartbeat (ms) and
 * the number of scripts in flight into shared memory; when scripts are in
 * flight and the heartbeat is older than the timeout, the main thread is stuck
 * in a synchronous loop: we stop the running JavaScript through the inspector
 * (`Runtime.terminateExecution`), and the main thread goes on serving; the
 * stuck request's own timer then answers 503.
 */
import { workerData } from 'node:worker_threads';
import { Session } from 'node:inspector';

const { buffer, timeoutMs } = workerData as { buffer: SharedArrayBuffer; timeoutMs: number };
const state = new Float64Array(buffer); // [0] heartbeat ms, [1] scripts in flight

// The session is connected only for the stop: a connected session would make the
// process wait for it at exit ("Waiting for the debugger to disconnect...").
setInterval(() => {
  if (state[1]! > 0 && Date.now() - state[0]! > timeoutMs) {
    state[0] = Date.now(); // one stop per stall
    const session = new Session();
    session.connectToMainThread();
    session.post('Runtime.terminateExecution', () => session.disconnect());
  }
}, Math.min(100, Math.max(10, timeoutMs / 10)));
