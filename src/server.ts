/** createServer(options): the HTTP server with everything wired (the public entry of the API). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler, type EarlyHandler, type ResultFilter } from './http/handler.js';
import { siteFolder } from './site.js';
import { createModuleRegistry, type ModuleRegistry } from './script/modules.js';
import { createLogger, type Logger } from './log.js';
import { defaultOptions, OptionError, type ServerOptions } from './options.js';
import { startWatchdog, type Watchdog } from './script/watchdog.js';
import type { PageContext, ScopeExtensions } from './script/context.js';
import { createMemorySessions, type SessionBackend } from './session/memory.js';
import { authExtensions } from './names/auth.js';
import { createTranslations } from './names/translate.js';
import { startLiveReload } from './live/live.js';
import { createInclude } from './names/include.js';
import { createRedisSessions } from './session/redis.js';
import { precompile } from './script/precompile.js';
import { releaseCompiler } from './script/compile.js';
import { watchProcessFaults } from './script/faults.js';
import { createTypeBanner } from './typecheck/type-banner.js';
import { boundHeap } from './heap.js';
import { showsPage } from './http/navigation.js';

export interface RunningServer {
  server: http.Server;
  /** `http://host:port` once listening. */
  url: string;
  options: ServerOptions;
  registry: ModuleRegistry;
  /** The session backend (its `size` with the memory store). */
  sessions: SessionBackend & { readonly size?: number };
  /** Stops accepting, lets running requests finish (up to `graceMs`), then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Starts a karrigell-ts server; resolves once it listens. Throws OptionError for a bad root or port. */
export async function createServer(partial: Partial<ServerOptions> = {}, log: Logger = createLogger(partial.quiet ?? false)): Promise<RunningServer> {
  const options: ServerOptions = { ...defaultOptions(), ...partial };
  // Memory stays bounded on every Node line (Node 24's young generation would grow to 128 MB).
  boundHeap();
  const site = siteFolder(options.root);
  if ('problem' in site) throw new OptionError(site.problem);
  const root = site.real;
  // Production: once started, a later compile (an Include first needed at run time) stops the compiler again.
  let started = false;
  const registry = createModuleRegistry({ releaseCompiler: () => started });
  if (options.production) {
    const failures = await precompile(root, registry);
    started = true;
    // Production compiles (almost) nothing after this: esbuild's process and the .tsx worker go.
    await releaseCompiler();
    if (failures.length) {
      throw new OptionError(`${failures.length} script${failures.length > 1 ? 's' : ''} failed to compile:\n${failures.map((f) => '  ' + f).join('\n')}`);
    }
  }
  // The hooks of the request pipeline, filled below in this order and only here:
  //   early   — may answer before the path is resolved: 1. live reload's event stream (development);
  //   filters — rewrite an HTML result before it is sent: 1. live-reload script, 2. type-error banner (development);
  //   onClose — run in reverse order of registration on close().
  const early: EarlyHandler[] = [];
  const filters: ResultFilter[] = [];
  const onClose: (() => Promise<void> | void)[] = [];
  const sessions = await createSessionBackend(options, log);
  onClose.push(() => sessions.shutdown?.());
  onClose.push(watchProcessFaults(root, registry, log));
  const watchdog: Watchdog | undefined = options.timeout > 0 ? startWatchdog(options.timeout) : undefined;
  onClose.push(() => watchdog?.stop());
  // Slow or stalled clients: headers within 10 s, the whole request within 60 s (checked every second).
  const server = http.createServer({ keepAliveTimeout: 5000, headersTimeout: 10_000, requestTimeout: 60_000, connectionsCheckingInterval: 1000 });
  try {
    // The names of a script's scope that are not the request's own (SCOPE_NAME_TABLE's other providers).
    const translations = createTranslations(root);
    const extensions: ScopeExtensions = {
      Session: (ctx) => () => sessions.open(ctx),
      ...authExtensions(),
      _: (ctx: PageContext) => translations.extension(ctx),
      Include: createInclude(registry, root),
    };
    const { handle, forget, close: closeHandler } = createHandler({ options, root, registry, log, extensions, early, filters, sessions, track: watchdog });
    onClose.push(closeHandler);
    if (!options.production) {
      const live = await startLiveReload({ root, registry, forget, translations, log });
      if (live.early) early.push(live.early);
      if (live.filter) filters.push(live.filter);
      onClose.push(() => live.close());
      const banner = createTypeBanner(root, log);
      // Type checks only for a browser loading a page: the banner is shown there, and
      // curl, fetch and a page's own requests do not wake the TypeScript worker.
      filters.push((result, ctx) => {
        if (showsPage(ctx.req)) banner.filter(result, ctx);
      });
      onClose.push(() => banner.close());
    }
    server.on('request', handle);
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
    await listen(server, options.port, options.host);
  } catch (err) {
    // Nothing may keep the process alive after a failed start (watcher, watchdog, store …).
    for (const fn of onClose.reverse()) await Promise.resolve(fn()).catch(() => {});
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  function close(graceMs = 10_000): Promise<void> {
    closing ??= (async () => {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections that finish their request meanwhile become idle: close them as they do.
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await done;
      clearInterval(idle);
      clearTimeout(timer);
      for (const fn of onClose.reverse()) await fn();
    })();
    return closing;
  }

  return { server, url: `http://${host}:${address.port}`, options: { ...options, root }, registry, sessions, close };
}

async function createSessionBackend(options: ServerOptions, log: Logger): Promise<SessionBackend> {
  if (options.sessionStore === 'memory') return createMemorySessions(options.maxSessions, options.sessionTtl);
  return createRedisSessions(options.sessionStore, options.sessionTtl, log);
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') reject(new OptionError(`port ${port} is already in use on ${host} (choose another with --port, or --port 0 for any free port)`));
      else if (err.code === 'EACCES') reject(new OptionError(`no permission to listen on ${host}:${port} (ports below 1024 need privileges)`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new OptionError(`cannot listen on host ${host}: no such local address`));
      else reject(err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
