/**
 * A real `redis-server` for the Redis and workers tests: started on a free
 * loopback port, no persistence, stopped (and started again on the same port)
 * on demand. In CI (CI=true) a missing redis-server is an error; elsewhere the
 * tests that need it are skipped with a loud message.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

/** The redis-server binary, if installed. */
export function findRedisServer(): string | undefined {
  const candidates = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', ...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'redis-server'))];
  for (const file of candidates) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export const REDIS_BIN = findRedisServer();
export const IN_CI = process.env.CI === 'true';
/** True when the tests needing Redis must be skipped (never in CI: there they fail). */
export const SKIP_REDIS = !REDIS_BIN && !IN_CI;
if (SKIP_REDIS) {
  process.stderr.write('\n*** redis-server is not installed: the Redis session and --workers tests are SKIPPED (apt-get install redis-server) ***\n\n');
}

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Stops the server (SIGTERM, SIGKILL after 3 s); its data is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty). */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
  readonly running: boolean;
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something answers `PING` with `+PONG` on the port (rejects after `ms`). */
async function waitForPong(port: number, ms: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}): ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      const done = (v: boolean): void => {
        socket.destroy();
        resolve(v);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.on('data', (c: Buffer) => {
        answer += c.toString();
        if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer on port ${port} within ${ms} ms: ${output()}`);
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

/** Starts a real redis-server on a free port. Throws if none is installed. */
export async function startRedis(): Promise<RedisServer> {
  if (!REDIS_BIN) throw new Error(`redis-server is not installed${IN_CI ? ' (CI=true: .ci/run must install it)' : ''}`);
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) return;
    let output = '';
    const c = spawn(REDIS_BIN!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    live.add(c);
    c.once('exit', () => live.delete(c));
    child = c;
    try {
      await waitForPong(port, 10_000, c, () => output);
    } catch (err) {
      c.kill('SIGKILL');
      child = undefined;
      throw err;
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    get running() {
      return child !== undefined;
    },
  };
}
