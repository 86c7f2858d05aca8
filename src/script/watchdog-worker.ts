/**
 * The timeout watchdog, run on another thread than the server's: the
 * TypeScript worker's (watchdog.ts says why). The main thread bumps a progress count in
 * shared memory from a timer and at every script start and end, and writes
 * the number of scripts in flight. When scripts are in flight and progress
 * has not moved for the whole timeout, the main thread is stuck in a
 * synchronous loop: we stop the running JavaScript through the inspector
 * (`Runtime.terminateExecution`), and the main thread goes on serving; the
 * stuck request is answered 503. Where the runtime cannot do that (Bun, Deno:
 * `interrupt` is false) the stuck process is ended instead, and the primary
 * that supervises it (cli/cluster.ts) starts a new one. (Timers do not run while the main thread
 * works through a batch of ready sockets: the script starts and ends of a
 * long batch of quick pages show it is no stall.)
 */
import { Session } from 'node:inspector';
import fs from 'node:fs';

export interface WatchdogInput {
  buffer: SharedArrayBuffer;
  timeoutMs: number;
  interrupt: boolean;
  runtime: string;
}

/** Starts watching (called on the thread that hosts it, see watchdog.ts); returns its stop. */
export function start({ buffer, timeoutMs, interrupt, runtime }: WatchdogInput): () => void {
  const state = new Float64Array(buffer);
  let progress = state[0]!;
  let movedAt = Date.now();

  // The session is connected only for the stop: a connected session would make the
  // process wait for it at exit ("Waiting for the debugger to disconnect...").
  const timer = setInterval(() => {
    const now = Date.now();
    if (state[0] !== progress) {
      progress = state[0]!;
      movedAt = now;
    }
    if (state[1]! > 0 && now - movedAt > timeoutMs) {
      movedAt = now; // one stop per stall
      if (!interrupt) {
        // Written synchronously: the process ends on the next line.
        fs.writeSync(2, `karrigell-ts: a script has run longer than --timeout (${timeoutMs / 1000} s) without yielding; ${runtime} cannot interrupt it, so this server process ends and a new one takes its place\n`);
        process.kill(process.pid, 'SIGKILL');
        return;
      }
      const session = new Session();
      session.connectToMainThread();
      session.post('Runtime.terminateExecution', () => session.disconnect());
    }
  }, Math.min(100, Math.max(10, timeoutMs / 10)));
  return () => clearInterval(timer);
}
