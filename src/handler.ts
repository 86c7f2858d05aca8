/**
 * The request pipeline, in order:
 *   1. reject bad URLs   2. reserved endpoints (live reload)   3. resolve the path
 *   4. page script → compile + run   5. static file   6. folder listing / redirect / 404
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createResolver, type Target } from './resolve.js';
import { createStaticServer } from './static.js';
import { renderListing } from './listing.js';
import { parseQuery, readBodyFields } from './fields.js';
import { runPage, sendResult, type PageResult } from './page.js';
import type { PageContext, ScopeExtensions } from './scope.js';
import { HttpError, statusText } from './signals.js';
import { relative, renderDevErrorPage, renderPlainPage, reportError, reportText } from './errors.js';
import type { ModuleRegistry } from './modules.js';
import type { ServerOptions } from './options.js';
import type { Logger } from './log.js';
import type { SessionBackend } from './session.js';
import { includeChainOf } from './include.js';

/** A hook that may answer a request before the path is resolved (e.g. the live-reload endpoint). */
export type EarlyHandler = (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean;

/** A hook that may rewrite an HTML result before it is sent (e.g. live-reload injection). */
export type ResultFilter = (result: PageResult, ctx: PageContext) => void;

export interface HandlerDeps {
  options: ServerOptions;
  root: string;
  registry: ModuleRegistry;
  log: Logger;
  extensions: ScopeExtensions;
  early: EarlyHandler[];
  filters: ResultFilter[];
  sessions: SessionBackend;
  /** Called around each script run (the timeout watchdog). */
  track?: { start(): void; end(): void };
}

/** Creates the `(req, res)` function of the server. */
export function createHandler(deps: HandlerDeps): {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Forgets what is cached about a file (and all path resolutions): the watcher calls it. */
  forget(file: string): void;
} {
  const { options, root, registry, log, sessions } = deps;
  const { serveStatic, forget } = createStaticServer();
  const resolver = createResolver(root, options.listing);
  const dev = !options.production;
  const deadlines = createDeadlines(options.timeout);

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const url = req.url ?? '/';
    if (!options.quiet) res.once('finish', () => log.access(req.method ?? '-', url, res.statusCode, performance.now() - started));
    try {
      route(req, res, url);
    } catch (err) {
      fail(req, res, url, err);
    }
  }

  function route(req: IncomingMessage, res: ServerResponse, url: string): void {
    // 1. Split the query off; absolute-form targets keep only their path.
    const q = url.indexOf('?');
    let pathname = q >= 0 ? url.slice(0, q) : url;
    const search = q >= 0 ? url.slice(q) : '';
    if (pathname[0] !== '/') pathname = absolutePath(pathname);
    // 2. Reserved endpoints.
    for (const early of deps.early) if (early(req, res, pathname)) return;
    // 3. Resolve.
    const target = resolver.resolve(pathname, search);
    switch (target.kind) {
      case 'script':
        void runScript(req, res, url, search, target);
        return;
      case 'static':
        if (dev && deps.filters.length && /\.html?$/.test(target.file) && !req.headers.range && (req.method === 'GET' || req.method === 'HEAD')) {
          serveFilteredHtml(req, res, target.file);
        } else {
          serveStatic(req, res, target.file, target.stat);
        }
        return;
      case 'redirect':
        res.writeHead(301, { location: target.location, 'content-type': 'text/plain; charset=utf-8' });
        res.end(`Moved to ${target.location}\n`);
        return;
      case 'listing':
        if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, `Method ${req.method} is not allowed here`, { allow: 'GET, HEAD' });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : renderListing(target.dir, target.urlPath));
        return;
      case 'error':
        plain(res, target.status, target.status === 400 ? `Bad request: ${target.reason}` : `Nothing at ${safePath(pathname)}`);
    }
  }

  async function runScript(req: IncomingMessage, res: ServerResponse, url: string, search: string, target: Extract<Target, { kind: 'script' }>): Promise<void> {
    const ctx: PageContext = {
      req,
      res,
      root,
      file: target.file,
      url,
      scriptUrl: target.scriptUrl,
      args: target.args,
      fields: parseQuery(search.slice(1)),
      status: 200,
      headers: Object.create(null) as Record<string, string>,
      cookies: [],
      out: [],
      pending: [],
      ...requestOrigin(req, options.trustProxy),
      extensions: deps.extensions,
      session: {},
      chain: [],
      deps: dev ? new Set<string>() : undefined,
    };
    // Ends once: normally, or at the deadline (a stuck script never comes back).
    let ended = false;
    const end = (): boolean => {
      if (ended) return false;
      ended = true;
      deadlines.remove(deadline);
      deps.track?.end();
      return true;
    };
    deps.track?.start();
    let timedOut = false;
    const deadline = deadlines.add(() => {
      if (!end()) return;
      timedOut = true;
      log.error(`Script ${relative(root, target.file)} stopped after ${options.timeout} s (--timeout) while serving ${url}`);
      fail(req, res, url, new HttpError(503, `The script took longer than ${options.timeout} s and was stopped`), ctx);
    });
    try {
      const running = runInContext(ctx, target.file);
      const result = running instanceof Promise ? await running : running;
      if (!end() || res.headersSent || res.destroyed) return;
      const sending = sendResult(res, result, ctx.cookies, req.method === 'HEAD');
      if (sending) await sending;
    } catch (err) {
      // A script error, or what it asked for could not be written (e.g. an invalid header).
      end();
      if (!timedOut && !res.headersSent && !res.destroyed) fail(req, res, url, err, ctx);
    }
  }

  /** Development: a static HTML page goes through the filters too (the live-reload script). */
  function serveFilteredHtml(req: IncomingMessage, res: ServerResponse, file: string): void {
    const result: PageResult = { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: fs.readFileSync(file, 'utf8') };
    const ctx = { req, res, file, root, deps: new Set<string>([file]) } as unknown as PageContext;
    for (const filter of deps.filters) filter(result, ctx);
    void sendResult(res, result, [], req.method === 'HEAD');
  }

  /** Body, page, session, script, filters: without a promise when none of them needs one. */
  function runInContext(ctx: PageContext, file: string): PageResult | Promise<PageResult> {
    const method = ctx.req.method;
    const page = registry.readyPage(file);
    if (!page || (method !== 'GET' && method !== 'HEAD') || sessions.before) return runInContextAsync(ctx, file);
    const result = runPage(page, ctx);
    return result instanceof Promise ? result.then((r) => afterRun(ctx, r)) : afterRun(ctx, result);
  }

  async function runInContextAsync(ctx: PageContext, file: string): Promise<PageResult> {
    const method = ctx.req.method;
    if (method !== 'GET' && method !== 'HEAD') await readBodyFields(ctx.req, ctx.fields, options);
    const page = await registry.loadPage(file);
    if (sessions.before) await sessions.before(ctx);
    return afterRun(ctx, await runPage(page, ctx));
  }

  function afterRun(ctx: PageContext, result: PageResult): PageResult | Promise<PageResult> {
    const saving = sessions.after?.(ctx);
    if (saving) return saving.then(() => filtered(ctx, result));
    return filtered(ctx, result);
  }

  function filtered(ctx: PageContext, result: PageResult): PageResult {
    if (deps.filters.length && result.headers['content-type']?.startsWith('text/html')) for (const filter of deps.filters) filter(result, ctx);
    return result;
  }

  function fail(req: IncomingMessage, res: ServerResponse, url: string, err: unknown, ctx?: PageContext): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Nothing the failed response had prepared goes out (a Location, a bad header …).
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    // A body we did not read to its end: the connection cannot be reused.
    if (!req.complete) res.setHeader('connection', 'close');
    if (err instanceof HttpError) {
      plain(res, err.status, err.message, err.headers, ctx?.cookies);
      return;
    }
    const id = randomBytes(6).toString('hex');
    const report = reportError(err, root, registry.unitOf, includeChainOf(err, root));
    log.error(reportText(report, root, `${req.method} ${url}`, id));
    res.statusCode = 500;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-request-id', id);
    const page = dev
      ? renderDevErrorPage(report, root, url)
      : renderPlainPage(500, statusText(500), `The page failed. Request id: ${id} (details are in the server's log).`);
    const result: PageResult = { status: 500, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page };
    if (dev && ctx) for (const filter of deps.filters) filter(result, ctx);
    res.end(result.body as string);
  }

  function plain(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, cookies?: string[]): void {
    if (cookies?.length) res.setHeader('set-cookie', cookies);
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(renderPlainPage(status, statusText(status), message));
  }

  return {
    handle,
    forget(file: string) {
      forget(file);
      resolver.clear();
    },
  };
}

/**
 * `--timeout` for scripts that wait too long: one sweeping timer for all
 * requests instead of a timer each (scripts stuck in a synchronous loop are
 * the watchdog's job: once it interrupts them, the sweep answers 503).
 */
function createDeadlines(seconds: number): { add(onTimeout: () => void): object | undefined; remove(entry: object | undefined): void } {
  if (!(seconds > 0)) return { add: () => undefined, remove: () => {} };
  const ms = seconds * 1000;
  const waiting = new Map<object, { deadline: number; onTimeout: () => void }>();
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = Date.now();
    for (const [key, w] of waiting) {
      if (w.deadline <= now) {
        waiting.delete(key);
        w.onTimeout();
      }
    }
    if (!waiting.size) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  return {
    add(onTimeout) {
      const key = {};
      waiting.set(key, { deadline: Date.now() + ms, onTimeout });
      if (!sweeper) {
        sweeper = setInterval(sweep, Math.min(250, Math.max(10, ms / 10)));
        sweeper.unref();
      }
      return key;
    },
    remove(key) {
      if (key) waiting.delete(key);
    },
  };
}

/** Client address, scheme and host: from the socket, or from X-Forwarded-* with --trust-proxy. */
function requestOrigin(req: IncomingMessage, trustProxy: boolean): { clientAddress: string; secure: boolean; host: string } {
  const direct = { clientAddress: req.socket.remoteAddress ?? '', secure: 'encrypted' in req.socket, host: req.headers.host ?? '' };
  if (!trustProxy) return direct;
  const first = (name: string): string | undefined => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;
  };
  const proto = first('x-forwarded-proto')?.toLowerCase();
  return {
    clientAddress: first('x-forwarded-for') ?? direct.clientAddress,
    secure: proto ? proto === 'https' : direct.secure,
    host: first('x-forwarded-host') ?? direct.host,
  };
}

function absolutePath(target: string): string {
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}

function safePath(pathname: string): string {
  return pathname.length > 200 ? pathname.slice(0, 200) + '…' : pathname;
}
