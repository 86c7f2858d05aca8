/**
 * --workers N (and every production start): N processes sharing the port
 * (node:cluster), a crashed worker replaced, SIGHUP reloading the code with
 * no request refused (SPEC §8).
 *
 * The primary picks the port (a free one for --port 0, so that every worker,
 * and every replacement, listens on the same one), forks N workers running
 * this very file, prints the banner once all of them listen, replaces a worker
 * that dies, and on SIGTERM/SIGINT asks each worker to stop gracefully
 * (running requests get up to 10 s), then resolves 0. A worker that cannot
 * start (port in use, Redis unreachable …) makes the whole start fail with its
 * one-line message. SIGHUP in production: see startReload.
 */
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { bannerLine } from '../log.js';
import { isStartFailure, StartError, type ServerOptions } from '../options.js';
import { createServer, type RunningServer } from '../server.js';
import { settleDevCertificate } from '../tls.js';
import { heapFlags } from '../heap.js';
import { RUNTIME } from '../runtime.js';

/** The environment variable that carries the options to a worker (and marks it as ours). */
const WORKER_ENV = 'KARRIGELL_TS_WORKER_OPTIONS';
/** Grace given to running requests on stop (SPEC §8). */
const GRACE_MS = 10_000;
/** After this, workers that have not exited are killed. */
const HARD_STOP_MS = GRACE_MS + 3_000;
/** A worker that dies younger than this is replaced after a growing delay (no fork storm). */
const YOUNG_MS = 2_000;

type ToPrimary = { kts: 'listening'; url: string } | { kts: 'fatal'; message: string; option: boolean };
type ToWorker = { kts: 'stop' };

/** Runs the primary process; resolves to an exit status when the cluster stops. Throws StartError when it cannot start. */
export async function runCluster(options: ServerOptions): Promise<number | undefined> {
  if (!cluster.isPrimary) throw new Error('runCluster: must be called in the primary process');
  const port = options.port === 0 ? await pickPort(options.host) : options.port;
  // One --https certificate for every worker (each would otherwise race to make its own on first use).
  const workerOptions: ServerOptions = settleDevCertificate({ ...options, port });
  const env = { [WORKER_ENV]: JSON.stringify(workerOptions) };
  // One worker: it accepts its connections itself from the shared socket (SCHED_NONE). With
  // round-robin the primary accepts each one and hands it over, and a connection handed to a
  // worker as it dies (out of memory) stays open in the primary, unanswered, for ever. With more
  // workers round-robin stays: left to the kernel, connections pile up on a few of them.
  if (options.workers === 1) cluster.schedulingPolicy = cluster.SCHED_NONE;
  // Workers get the young generation's bound on their command line (Node's flags; Bun's cluster would refuse them).
  cluster.setupPrimary({ exec: fileURLToPath(import.meta.url), args: [], execArgv: RUNTIME === 'node' ? [...process.execArgv, ...heapFlags()] : process.execArgv });

  return new Promise<number | undefined>((resolve, reject) => {
    let phase: 'starting' | 'running' | 'stopping' = 'starting';
    let failure: { message: string; option: boolean } | undefined;
    const listening = new Set<number>();
    const born = new Map<number, number>();
    let youngDeaths = 0;
    let hardStop: NodeJS.Timeout | undefined;
    const pendingForks = new Set<NodeJS.Timeout>();

    const workers = new Set<Worker>();
    const alive = (): Worker[] => [...workers];
    /** A reload under way (SIGHUP): the new workers, kept apart until all of them listen. */
    let reload: { workers: Set<Worker>; listening: Set<number>; started: number; failed: boolean } | undefined;
    let reloadAgain = false;

    const fork = (): void => {
      const worker = cluster.fork(env);
      workers.add(worker);
      watch(worker);
    };

    const watch = (worker: Worker): void => {
      born.set(worker.id, Date.now());
      worker.on('message', (message: ToPrimary) => onMessage(worker, message));
      // An IPC error (worker gone) must not crash the primary.
      worker.on('error', () => {});
    };

    const onMessage = (worker: Worker, message: ToPrimary): void => {
      if (!message || typeof message !== 'object') return;
      if (reload?.workers.has(worker)) return onReloadMessage(worker, message);
      if (message.kts === 'listening') {
        if (phase !== 'starting') return;
        listening.add(worker.id);
        if (listening.size === options.workers) {
          phase = 'running';
          process.stdout.write(bannerLine(options.root, message.url, options.production, options.workers) + '\n');
        }
      } else if (message.kts === 'fatal') {
        if (phase === 'starting') {
          failure ??= { message: message.message, option: message.option };
          stopAll(true);
        } else if (phase === 'running') {
          process.stderr.write(`karrigell-ts: a new worker could not start: ${message.message}\n`);
        }
      }
    };

    /**
     * SIGHUP (SPEC §8): N new workers load the site's code as it is now (production precompiles it
     * before listening); once all of them listen, the old ones stop as on SIGTERM (running requests
     * finish, keep-alive clients are told to reconnect). If one cannot start, the new ones stop and
     * the old ones go on serving.
     */
    const startReload = (): void => {
      if (phase !== 'running') return;
      if (reload) {
        reloadAgain = true; // once this one is done: the code may have changed again meanwhile
        return;
      }
      process.stderr.write(`karrigell-ts: reloading: starting ${options.workers} new worker${options.workers > 1 ? 's' : ''}\n`);
      reload = { workers: new Set(), listening: new Set(), started: Date.now(), failed: false };
      for (let i = 0; i < options.workers; i++) {
        const worker = cluster.fork(env);
        reload.workers.add(worker);
        watch(worker);
      }
    };

    const onReloadMessage = (worker: Worker, message: ToPrimary): void => {
      const r = reload!;
      if (message.kts === 'listening') {
        r.listening.add(worker.id);
        if (r.listening.size < r.workers.size || r.failed) return;
        const old = alive();
        for (const w of r.workers) {
          workers.add(w);
          born.set(w.id, Date.now());
        }
        reload = undefined;
        // The old ones leave the set first: their exit is then not a crash to replace.
        for (const w of old) {
          workers.delete(w);
          draining.add(w);
          if (w.isConnected()) w.send({ kts: 'stop' } satisfies ToWorker);
          else w.process.kill('SIGTERM');
        }
        process.stderr.write(`karrigell-ts: reloaded in ${Date.now() - r.started} ms: ${r.workers.size} new worker${r.workers.size > 1 ? 's' : ''} serving, the old ones finish their requests\n`);
        if (reloadAgain) {
          reloadAgain = false;
          startReload();
        }
      } else if (message.kts === 'fatal') {
        reloadFailed(message.message);
      }
    };

    const reloadFailed = (why: string): void => {
      const r = reload;
      if (!r || r.failed) return;
      r.failed = true;
      process.stderr.write(`karrigell-ts: reload failed, the old workers go on serving: ${why}\n`);
      // New workers already listening may be serving: they stop gracefully too.
      for (const w of r.workers) {
        if (w.isConnected()) w.send({ kts: 'stop' } satisfies ToWorker);
        else w.process.kill('SIGTERM');
      }
    };

    const draining = new Set<Worker>();

    const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
      const how = signal ? `was killed (${signal})` : `exited with status ${code}`;
      if (draining.delete(worker)) {
        if (phase === 'stopping' && alive().length === 0 && draining.size === 0) finish();
        return;
      }
      if (reload?.workers.has(worker)) {
        reload.workers.delete(worker);
        if (!reload.failed) reloadFailed(`a new worker ${how} before it was listening`);
        if (reload.workers.size === 0) {
          reload = undefined;
          if (reloadAgain) {
            reloadAgain = false;
            startReload();
          }
        }
        if (phase === 'stopping' && alive().length === 0 && draining.size === 0) finish();
        return;
      }
      if (!workers.delete(worker)) return; // not one of ours
      const age = Date.now() - (born.get(worker.id) ?? 0);
      born.delete(worker.id);
      if (phase === 'starting') {
        failure ??= { message: `a worker ${how} before it was listening`, option: false };
        stopAll(true);
      } else if (phase === 'running') {
        youngDeaths = age < YOUNG_MS ? youngDeaths + 1 : 0;
        const delay = youngDeaths ? Math.min(250 * 2 ** (youngDeaths - 1), 10_000) : 0;
        process.stderr.write(`karrigell-ts: worker ${worker.process.pid} ${how}; starting a new one${delay ? ` in ${delay} ms` : ''}\n`);
        const timer = setTimeout(() => {
          pendingForks.delete(timer);
          if (phase === 'running') fork();
        }, delay);
        pendingForks.add(timer);
      }
      if (phase === 'stopping' && alive().length === 0 && draining.size === 0) finish();
    };

    /** Asks every worker to stop (kill: at once, for a failed start). */
    const stopAll = (kill: boolean): void => {
      phase = 'stopping';
      for (const timer of pendingForks) clearTimeout(timer);
      pendingForks.clear();
      // The workers of a reload under way stop as well (they leave through draining).
      if (reload) {
        for (const w of reload.workers) draining.add(w);
        reload.failed = true;
        for (const w of reload.workers) w.process.kill(kill ? 'SIGKILL' : 'SIGTERM');
        reload = undefined;
      }
      for (const worker of alive()) {
        if (kill) worker.process.kill('SIGKILL');
        else if (worker.isConnected()) worker.send({ kts: 'stop' } satisfies ToWorker);
        else worker.process.kill('SIGTERM');
      }
      hardStop ??= setTimeout(() => {
        for (const worker of [...alive(), ...draining]) worker.process.kill('SIGKILL');
      }, HARD_STOP_MS);
      if (alive().length === 0 && draining.size === 0) finish();
    };

    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(hardStop);
      cluster.off('exit', onExit);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangup);
      if (failure) reject(failure.option ? new StartError(failure.message) : new Error(failure.message));
      else resolve(0);
    };

    let signals = 0;
    const onSignal = (): void => {
      signals++;
      if (signals === 1 && phase !== 'stopping') stopAll(phase === 'starting');
      else if (signals > 1) for (const worker of alive()) worker.process.kill('SIGKILL');
    };

    // SIGHUP reloads in production; in development the watcher already shows every edit, and a
    // SIGHUP (a closed terminal) keeps its usual meaning: stop.
    const onHangup = (): void => (options.production ? startReload() : onSignal());

    cluster.on('exit', onExit);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onHangup);
    for (let i = 0; i < options.workers; i++) fork();
  });
}

/** A free port on `host` for --port 0, so that all workers (and their replacements) share one. */
export function pickPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new StartError(`cannot listen on host ${host}: no such local address`));
      else reject(new StartError(`cannot listen on ${host}: ${err.message}`));
    });
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A worker: one server; stops gracefully on the primary's word (or SIGTERM/SIGINT), exits 0. */
async function runWorker(options: ServerOptions): Promise<void> {
  const send = (message: ToPrimary, then?: () => void): void => {
    if (process.send && process.connected) process.send(message, undefined, {}, () => then?.());
    else then?.();
  };
  let running: RunningServer;
  try {
    running = await createServer(options);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    send({ kts: 'fatal', message, option: isStartFailure(err) }, () => process.exit(1));
    return;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    running.close(GRACE_MS).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`karrigell-ts: worker ${process.pid} did not stop cleanly: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('message', (message: ToWorker) => {
    if (message && message.kts === 'stop') stop();
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  send({ kts: 'listening', url: running.url });
}

if (cluster.isWorker && process.env[WORKER_ENV]) {
  const options = JSON.parse(process.env[WORKER_ENV]) as ServerOptions;
  delete process.env[WORKER_ENV];
  void runWorker(options);
}
