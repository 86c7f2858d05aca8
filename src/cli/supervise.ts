/**
 * Bun and Deno cannot interrupt a script stuck in a synchronous loop (see
 * runtime.ts): there `serve` runs the server in a child process of the same
 * runtime and this supervisor starts a new one when it ends abnormally (the
 * watchdog ends a stuck one). A child process rather than node:cluster: on
 * Deno a cluster worker cannot start worker threads, which the server needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RUNTIME, RUNTIME_LABEL } from '../runtime.js';
import { pickPort } from './cluster.js';

/** Set in the supervised child. */
export const SUPERVISED_ENV = 'KARRIGELL_TS_SUPERVISED';
/** A child that ends this soon after it started failed to start: no second try. */
const START_MS = 3000;
/** Restarts within this window count towards the backoff. */
const CRASH_WINDOW_MS = 10_000;

/**
 * Runs `serve` with these command-line arguments in a supervised child; resolves
 * to the exit status. SIGTERM and SIGINT stop it. SIGHUP in production (Deno, where
 * node:cluster's reload is not available) restarts the child with the code as it is
 * now: the child is stopped as by SIGTERM (its requests under way are answered) and a
 * new one started at once, a short gap; in development SIGHUP stops, as on Node.
 */
export async function supervise(args: string[], port: number, host: string, production: boolean): Promise<number> {
  // With --port 0, every child must listen on the same port: pick it once.
  const fixed = port === 0 ? await pickPort(host) : port;
  const childArgs = withPort(args, fixed);
  const script = process.argv[1]!;
  const runtimeArgs = RUNTIME === 'deno' ? ['run', '-A', script] : [script];
  let child: ChildProcess | undefined;
  let stopping = false;
  /** A SIGHUP restart under way: the child's end is not a failure, whenever it comes. */
  let reloading = false;
  let restarts: number[] = [];

  return new Promise<number>((resolve) => {
    const start = (): void => {
      const startedAt = Date.now();
      child = spawn(process.execPath, [...runtimeArgs, ...childArgs], { stdio: 'inherit', env: { ...process.env, [SUPERVISED_ENV]: '1' } });
      child.once('exit', (code, signal) => {
        if (stopping) return resolve(code ?? 0);
        if (reloading) {
          reloading = false;
          process.stderr.write(`karrigell-ts: SIGHUP: the server process restarts with the site's code as it is now (${RUNTIME_LABEL}: one process, a short gap)\n`);
          return start();
        }
        if (code === 0) return resolve(0);
        if (Date.now() - startedAt < START_MS && signal !== 'SIGKILL') return resolve(code ?? 1);
        const now = Date.now();
        restarts = restarts.filter((t) => now - t < CRASH_WINDOW_MS);
        restarts.push(now);
        const delay = restarts.length > 1 ? Math.min(250 * 2 ** (restarts.length - 2), 5000) : 0;
        process.stderr.write(`karrigell-ts: the server process ${signal ? `was killed (${signal})` : `exited with status ${code}`}; starting a new one${delay ? ` in ${delay} ms` : ''} (${RUNTIME_LABEL})\n`);
        setTimeout(() => {
          if (!stopping) start();
          else resolve(0);
        }, delay);
      });
    };
    const forward = (signal: NodeJS.Signals) => (): void => {
      const running = child && child.exitCode === null && child.signalCode === null;
      if (signal === 'SIGHUP' && production) {
        // One restart at a time; a SIGHUP while the child is down (a restart's delay) changes nothing.
        if (running && !reloading) {
          reloading = true;
          child!.kill('SIGTERM');
        }
        return;
      }
      stopping = true;
      if (running) child!.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
      else resolve(0);
    };
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, forward(signal));
    start();
  });
}

function withPort(args: string[], port: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--port') i++;
    else if (!a.startsWith('--port=')) out.push(a);
  }
  return [...out, '--port', String(port)];
}
