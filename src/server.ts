/** createServer(options): the HTTP server with everything wired (the public entry of the API). */
import http from 'node:http';
import http2 from 'node:http2';
import net, { type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHandler, type EarlyHandler, type ResultFilter } from './http/handler.js';
import { siteFolder } from './site.js';
import { relative } from './script/errors.js';
import { RUNTIME, RUNTIME_LABEL } from './runtime.js';
import { createModuleRegistry, type ModuleRegistry } from './script/modules.js';
import { createLogger, type Logger } from './log.js';
import { defaultOptions, OptionError, parseOrigin, StartError, type ServerOptions } from './options.js';
import { startWatchdog, type Watchdog } from './script/watchdog.js';
import type { PageContext, ScopeExtensions } from './script/context.js';
import { createMemorySessions, type SessionBackend } from './session/memory.js';
import { authExtensions } from './names/auth.js';
import { createTranslations, type Translations } from './names/translate.js';
import { startLiveReload } from './live/live.js';
import { createInclude } from './names/include.js';
import { createRedisSessions } from './session/redis.js';
import { precompile } from './script/precompile.js';
import { releaseCompiler } from './script/compile.js';
import { watchProcessFaults } from './script/faults.js';
import { guardProcess } from './script/process-guard.js';
import { createTypeBanner } from './typecheck/type-banner.js';
import { loadTls } from './tls.js';
import type { Req, Res } from './exchange.js';
import { NOSNIFF_NAME, NOSNIFF_VALUE } from './encoding.js';
import { boundHeap } from './heap.js';
import { serveNative, type NativeServer } from './http/native.js';
import { serveStreams } from './http/h2.js';

export interface RunningServer {
  /** An HTTP/1.1 server, or with TLS an HTTP/2 server that also speaks HTTP/1.1 (ALPN); on Bun and Deno without TLS, their own server (http/native.ts). */
  server: http.Server | http2.Http2SecureServer | NativeServer;
  /** `http://host:port` (`https://…` with TLS) once listening. */
  url: string;
  options: ServerOptions;
  registry: ModuleRegistry;
  /** The session backend (its `size` with the memory store). */
  sessions: SessionBackend & { readonly size?: number };
  /** Stops accepting, lets running requests finish (up to `graceMs`), then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Starts a karrigell-ts server; resolves once it listens. Throws OptionError for a bad root, StartError when it cannot start (port in use, scripts that fail to compile, Redis unreachable). */
export async function createServer(partial: Partial<ServerOptions> = {}, log: Logger = createLogger(partial.quiet ?? false, partial.logFormat)): Promise<RunningServer> {
  const options: ServerOptions = { ...defaultOptions(), ...partial };
  // The API takes origins as people write them; the check compares the form browsers send.
  options.allowOrigin = (options.allowOrigin ?? []).map((origin) => parseOrigin(origin, 'allowOrigin'));
  // Memory stays bounded on every Node line (Node 24's young generation would grow to 128 MB).
  boundHeap(!options.production);
  const site = siteFolder(options.root);
  if ('problem' in site) throw new OptionError(site.problem);
  const root = site.real;
  const tls = loadTls(options);
  // Bun and Deno answer through their own servers (Bun.serve, Deno.serve), except over TLS: HTTPS
  // must also speak HTTP/2, which Bun.serve does not, so there both keep node:http2.
  const native = RUNTIME !== 'node' && !tls ? RUNTIME : undefined;
  if (RUNTIME !== 'node' && tls) log.info(`karrigell-ts: on ${RUNTIME_LABEL}, HTTPS is served by its node:http2 layer (HTTP/2 and HTTP/1.1), not by its native server: plain HTTP is faster there`);
  // Production: once started, a later compile (an Include first needed at run time) stops the compiler again.
  let started = false;
  const registry = createModuleRegistry(
    root,
    (file, err) => log.error(`import.meta.hot.dispose of ${relative(root, file)} failed: ${(err as Error)?.stack ?? String(err)}`),
    () => started,
    // Development: a first visit also compiles the pages beside it, in one build (modules.ts compileAhead).
    !options.production,
  );
  if (options.production) {
    const failures = await precompile(root, registry);
    started = true;
    // Production compiles (almost) nothing after this: esbuild's process and the .tsx worker go.
    await releaseCompiler();
    if (failures.length) {
      throw new StartError(`${failures.length} script${failures.length > 1 ? 's' : ''} failed to compile:\n${failures.map((f) => '  ' + f).join('\n')}`);
    }
  }
  // The hooks of the request pipeline, filled below in this order and only here:
  //   early   — may answer before the path is resolved: 1. live reload's event stream (development);
  //   filters — rewrite the HTML result of a browser's page load before it is sent: 1. live-reload script, 2. type-error banner (development);
  //   onClose — run in reverse order of registration on close().
  const early: EarlyHandler[] = [];
  const filters: ResultFilter[] = [];
  const onClose: (() => Promise<void> | void)[] = [];
  /** Runs what was registered to close, last first; `failed`: a failed start, where one error must not stop the others. */
  const runOnClose = async (failed = false): Promise<void> => {
    for (const fn of onClose.reverse()) await (failed ? Promise.resolve(fn()).catch(() => {}) : fn());
  };
  const sessions = await createSessionBackend(options, log);
  onClose.push(() => sessions.shutdown?.());
  // Runs before the session store closes (reverse order): the modules' dispose functions (SPEC §4, Module lifecycle).
  onClose.push(() => registry.disposeAll());
  onClose.push(watchProcessFaults(root, registry, log));
  // A page cannot stop the server (process.exit() and the like throw, naming the page).
  onClose.push(guardProcess(root, registry));
  const watchdog: Watchdog | undefined = options.timeout > 0 ? startWatchdog(options.timeout) : undefined;
  onClose.push(() => watchdog?.stop());
  // Slow or stalled clients: headers within 10 s, the whole request within 60 s (checked every second).
  const limits = { keepAliveTimeout: 5000, headersTimeout: 10_000, requestTimeout: 60_000, connectionsCheckingInterval: 1000 };
  // With TLS: HTTP/2 and HTTP/1.1 on one port; the HTTP/1.1 connections of an HTTP/2 server take the same limits.
  const server = native ? undefined : tls ? Object.assign(http2.createSecureServer({ ...tls, allowHTTP1: true }), limits) : http.createServer(limits);
  let nativeServer: NativeServer | undefined;
  let closing: Promise<void> | undefined;
  let lastRequest = 0;
  // Every TLS connection (h2 session or HTTP/1.1) and h2 session, so that close() can end them.
  const sockets = new Set<Socket>();
  const h2sessions = new Set<http2.ServerHttp2Session>();
  if (tls && server) {
    server.on('secureConnection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.on('session', (session: http2.ServerHttp2Session) => {
      h2sessions.add(session);
      closeWhenIdle(session, limits.keepAliveTimeout);
      session.once('close', () => h2sessions.delete(session));
    });
  }
  try {
    const translations = createTranslations(root);
    const extensions = scopeExtensions(sessions, translations, registry, root);
    const { handle, forget, close: closeHandler } = createHandler({ options, root, registry, log, extensions, early, filters, sessions, track: watchdog });
    onClose.push(closeHandler);
    if (!options.production) {
      const live = await startLiveReload({ root, registry, forget, translations, log, mode: options.live });
      if (live.early) early.push(live.early);
      if (live.filter) filters.push(live.filter);
      onClose.push(() => live.close());
      const banner = createTypeBanner(root, log);
      // Type checks only for a browser loading a page (filters see nothing else): the banner is shown
      // there, and curl, fetch and a page's own requests do not wake the TypeScript worker.
      filters.push(banner.filter);
      onClose.push(() => banner.close());
    }
    if (native) {
      nativeServer = listenNative(native, handle, options.port, options.host, log);
    } else if (server) {
      listenNode(server, handle);
      await listen(server, options.port, options.host);
    }
  } catch (err) {
    // Nothing may keep the process alive after a failed start (watcher, watchdog, store …).
    await runOnClose(true);
    throw err;
  }

  /** The node:http (or http2) server's listeners. */
  function listenNode(server: http.Server | http2.Http2SecureServer, handle: (req: Req, res: Res) => void): void {
    // While closing, every HTTP/1.1 answer says `connection: close`: a busy keep-alive client then
    // opens its next connection elsewhere (another worker) instead of finding this one cut.
    // One listener (an event with two copies its listeners' array on every request).
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      lastRequest = Date.now();
      if (closing) res.setHeader('connection', 'close');
      handle(req as Req, res as Res);
    });
    // HTTP/2 streams go to the pipeline through their own adapter, not Node's compatibility objects (http/h2.ts).
    if (tls) serveStreams(server as http2.Http2SecureServer, handle, () => (lastRequest = Date.now()));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n${NOSNIFF_NAME}: ${NOSNIFF_VALUE}\r\n\r\n`);
    });
  }
  const address: Pick<AddressInfo, 'address' | 'family' | 'port'> = server
    ? (server.address() as AddressInfo)
    : { address: options.host, family: options.host.includes(':') ? 'IPv6' : 'IPv4', port: nativeServer!.port };
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  function close(graceMs = 10_000): Promise<void> {
    if (!server) return (closing ??= closeNative(nativeServer!, graceMs));
    closing ??= (async () => {
      // net's close, not http's: http's would also cut every idle keep-alive connection at once, among
      // them those whose client is sending its next request right now (a failed request under load).
      // (Bun's and Deno's http servers are not net servers inside: there, http's close.)
      const done = new Promise<void>((resolve) => (RUNTIME === 'node' ? net.Server.prototype.close.call(server, () => resolve()) : server.close(() => resolve())));
      // HTTP/2 sessions get a GOAWAY: their running streams finish, no new one starts.
      for (const session of h2sessions) session.close();
      // Connections that finish their request meanwhile become idle: close them as they do.
      // (An HTTP/2 server has it too, for its HTTP/1.1 connections, though its types do not say so.)
      const closeIdle = (): void => (server as { closeIdleConnections?(): void }).closeIdleConnections?.();
      // Idle connections are closed once the server is quiet (no request for 200 ms): by then every busy
      // client has had its `connection: close` answer, and an idle connection is really idle.
      const idle = setInterval(() => Date.now() - lastRequest >= 200 && closeIdle(), 50);
      if (Date.now() - lastRequest >= 200) closeIdle();
      const timer = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await done;
      clearInterval(idle);
      clearTimeout(timer);
      // Now http's close too, for what it stops besides (its connections-checking timer); nothing is left to cut.
      server.close(() => {});
      await runOnClose();
    })();
    return closing;
  }

  /** Bun.serve, Deno.serve: they stop accepting and let running requests finish; after the grace, what is left is cut. */
  async function closeNative(native: NativeServer, graceMs: number): Promise<void> {
    const timer = setTimeout(() => native.closeAll(), graceMs);
    await native.close();
    clearTimeout(timer);
    await runOnClose();
  }

  return { server: server ?? nativeServer!, url: `${tls ? 'https' : 'http'}://${host}:${address.port}`, options: { ...options, root }, registry, sessions, close };
}

/** The names of a script's scope that are not the request's own: the other providers of SCOPE_NAME_TABLE. */
export function scopeExtensions(sessions: SessionBackend, translations: Translations, registry: ModuleRegistry, root: string): ScopeExtensions {
  return {
    Session: (ctx) => () => sessions.open(ctx),
    ...authExtensions(),
    _: (ctx: PageContext) => translations.extension(ctx),
    SET_LANGUAGE: (ctx: PageContext) => translations.setLanguage(ctx),
    Include: createInclude(registry, root),
  };
}

async function createSessionBackend(options: ServerOptions, log: Logger): Promise<SessionBackend> {
  if (options.sessionStore === 'memory') return createMemorySessions(options.maxSessions, options.sessionTtl);
  return createRedisSessions(options.sessionStore, options.sessionTtl, log);
}

/**
 * An HTTP/2 connection without a stream for `ms` is closed (GOAWAY), as an idle
 * HTTP/1.1 keep-alive connection is: Node keeps one open for ever otherwise, and
 * a client could hold thousands. A stream open for long (a slow page, a download,
 * the live-reload stream) keeps its connection.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, ms: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const idle = (): void => {
    timer = setTimeout(() => session.close(), ms);
    timer.unref();
  };
  const ended = (): void => {
    if (--open === 0) idle();
  };
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    if (open++ === 0) clearTimeout(timer);
    stream.on('close', ended);
  });
  session.once('close', () => clearTimeout(timer));
  idle();
}

/** A listen error as the user reads it (the codes are node's; Bun and Deno give the same ones). */
function listenError(err: NodeJS.ErrnoException, port: number, host: string): Error {
  if (err.code === 'EADDRINUSE') return new StartError(`port ${port} is already in use on ${host} (choose another with --port, or --port 0 for any free port)`);
  if (err.code === 'EACCES') return new StartError(`no permission to listen on ${host}:${port} (ports below 1024 need privileges)`);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') return new StartError(`cannot listen on host ${host}: no such local address`);
  return err;
}

/** Bun.serve or Deno.serve with the pipeline (http/native.ts); they listen at once. */
function listenNative(runtime: 'bun' | 'deno', handle: (req: Req, res: Res) => void, port: number, host: string, log: Logger): NativeServer {
  try {
    return serveNative(runtime, handle, port, host, (err) => log.error(`karrigell-ts: a request failed in the ${RUNTIME_LABEL} server: ${(err as Error)?.stack ?? String(err)}`));
  } catch (err) {
    throw listenError(err as NodeJS.ErrnoException, port, host);
  }
}

function listen(server: http.Server | http2.Http2SecureServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, port, host));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
