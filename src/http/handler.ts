/**
 * The request pipeline. `route` runs these steps, numbered the same in the code:
 *   1. split the query off the path (an absolute-form target keeps its path)
 *   2. early handlers listed by server.ts (live reload's event stream) may answer
 *   3. resolve the path (resolve.ts: bad, hidden or outside ROOT → 400/404)
 *   4. a page script asked with POST, PUT, PATCH or DELETE from another origin
 *      is refused with 403 before its body is read (origin-check.ts, SPEC §4)
 *   5. the target answers:
 *      a. a page script: read the body, load the page, run it (`runScript`;
 *         synchronous pages without a promise), filters, send
 *      b. a static file (static.ts; in development an HTML file goes through the filters)
 *      c. a redirect to the folder's slash form
 *      d. a folder listing (--listing)
 *      e. an error from step 3
 * Every error answer goes out through `fail` → sendError (respond.ts).
 */
import type { Req, Res } from '../exchange.js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createResolver, type Target } from './resolve.js';
import { createStaticServer } from './static.js';
import { renderListing } from './listing.js';
import { readBodyFields } from './fields.js';
import { fieldsOf } from '../script/query.js';
import { runPage, sendResult, errorFormatOf, type PageResult } from '../script/page.js';
import type { PageContext, ScopeExtensions } from '../script/context.js';
import { HttpError } from '../script/signals.js';
import { relative, renderDevErrorPage, reportError, reportText } from '../script/errors.js';
import type { ModuleRegistry } from '../script/modules.js';
import type { ServerOptions } from '../options.js';
import type { Logger } from '../log.js';
import type { SessionBackend } from '../session/memory.js';
import { includeChainOf } from '../names/include.js';
import { createDeadlines, type InFlightTracker } from '../script/deadlines.js';
import { echoPath, sendError, showsPage } from './respond.js';
import { crossOriginRefusal } from './origin-check.js';
import { NOSNIFF_NAME, NOSNIFF_VALUE } from '../encoding.js';
import { sentCount } from '../log.js';

/** The include chain of a page itself: never changed (an Include makes its own). */
const NO_CHAIN: readonly string[] = Object.freeze([]);

/** A hook that may answer a request before the path is resolved (e.g. the live-reload endpoint). */
export type EarlyHandler = (req: Req, res: Res, pathname: string) => boolean;

/** A hook that may rewrite an HTML result before it is sent (e.g. live-reload injection); called only for a browser's page load (showsPage). */
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
  /** Told how many scripts are in flight at each start and end (the timeout watchdog). */
  track?: InFlightTracker;
}

/** Creates the `(req, res)` function of the server. */
export function createHandler(deps: HandlerDeps): {
  handle(req: Req, res: Res): void;
  /** Stops the deadline sweeper. */
  close(): void;
  /** Forgets what is cached about a file (and all path resolutions): the watcher calls it. */
  forget(file: string): void;
} {
  const { options, root, registry, log, sessions } = deps;
  const { serveStatic, forget } = createStaticServer(options);
  const resolver = createResolver(root, options.listing);
  const deadlines = createDeadlines(options.timeout, deps.track, (ctx) => timedOut(ctx));
  const dev = !options.production;
  const allowedOrigins: ReadonlySet<string> = new Set(options.allowOrigin);

  function handle(req: Req, res: Res): void {
    const url = req.url ?? '/';
    if (!options.quiet) {
      const started = performance.now();
      res.once('finish', () => logAccess(req, res, url, performance.now() - started));
    }
    try {
      route(req, res, url);
    } catch (err) {
      fail(req, res, url, err);
    }
  }

  function route(req: Req, res: Res, url: string): void {
    // 1. Split the query off; absolute-form targets keep only their path.
    const q = url.indexOf('?');
    let pathname = q >= 0 ? url.slice(0, q) : url;
    const search = q >= 0 ? url.slice(q) : '';
    if (pathname[0] !== '/') pathname = absolutePath(pathname);
    // 2. Reserved endpoints.
    for (const early of deps.early) if (early(req, res, pathname)) return;
    // 3. Resolve.
    const target = resolver.resolve(pathname, search);
    // 4. Cross-origin protection: before the body is read and the script runs.
    if (target.kind === 'script') {
      const refusal = crossOriginRefusal(req, allowedOrigins, options.trustProxy);
      if (refusal !== undefined) return sendError(req, res, 403, refusal, { headers: req.complete ? {} : { connection: 'close' } });
    }
    // 5. Answer.
    switch (target.kind) {
      case 'script': // 5a
        runScript(req, res, url, search, target);
        return;
      case 'static': // 5b
        // Only a page a browser shows gets the script; any other request gets what production sends.
        if (dev && deps.filters.length && /\.html?$/.test(target.file) && showsPage(req) && !req.headers.range && (req.method === 'GET' || req.method === 'HEAD')) {
          serveFilteredHtml(req, res, target.file);
        } else {
          serveStatic(req, res, target.file, target.stat);
        }
        return;
      case 'redirect': // 5c
        res.writeHead(301, { location: target.location, 'content-type': 'text/plain; charset=utf-8', [NOSNIFF_NAME]: NOSNIFF_VALUE });
        res.end(`Moved to ${target.location}\n`);
        return;
      case 'listing': // 5d
        if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(req, res, 405, `Method ${req.method} is not allowed here`, { headers: { allow: 'GET, HEAD' } });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', [NOSNIFF_NAME]: NOSNIFF_VALUE });
        res.end(req.method === 'HEAD' ? undefined : renderListing(target.dir, target.urlPath));
        return;
      case 'error': // 5e
        sendError(req, res, target.status, target.status === 400 ? `Bad request: ${target.reason}` : `Nothing at ${echoPath(pathname)}`);
    }
  }

  /**
   * A page script. A page that answers synchronously (the common case) is run,
   * sent and forgotten without a promise, a timer or a closure; a page that
   * awaits gets its deadline (`--timeout`) when it starts waiting.
   */
  function runScript(req: Req, res: Res, url: string, search: string, target: Extract<Target, { kind: 'script' }>): void {
    const ctx: PageContext = {
      req,
      res,
      root,
      file: target.file,
      url,
      scriptUrl: target.scriptUrl,
      args: target.args,
      fields: undefined,
      query: search.slice(1),
      status: 200,
      // A plain object (a null-prototype one is a slow dictionary to walk); names
      // come from our code or through RESPONSE.headers, whose own store has no prototype.
      headers: {},
      cookies: [],
      out: [],
      pending: undefined,
      trustProxy: options.trustProxy,
      origin: undefined,
      extensions: deps.extensions,
      session: {},
      chain: NO_CHAIN,
      deps: dev ? new Set<string>() : undefined,
      names: undefined,
      service: undefined,
    };
    deadlines.enter(ctx);
    let running: PageResult | Promise<PageResult>;
    try {
      running = runInContext(ctx, target.file);
    } catch (err) {
      deadlines.settle(ctx);
      return scriptFailed(ctx, err);
    }
    if (running instanceof Promise) {
      deadlines.wait(ctx);
      void waitFor(ctx, running);
      return;
    }
    deadlines.settle(ctx);
    send(ctx, running);
  }

  /** A page that awaits: its result, unless its deadline came first (then it was answered). */
  async function waitFor(ctx: PageContext, running: Promise<PageResult>): Promise<void> {
    let result: PageResult;
    try {
      result = await running;
    } catch (err) {
      if (deadlines.finish(ctx)) scriptFailed(ctx, err);
      return;
    }
    if (deadlines.finish(ctx)) send(ctx, result);
  }

  /** `--timeout`: the page waited too long, or the watchdog stopped its synchronous loop. */
  function timedOut(ctx: PageContext): void {
    log.error(`Script ${relative(root, ctx.file)} stopped after ${options.timeout} s (--timeout) while serving ${ctx.url}`);
    fail(ctx.req, ctx.res, ctx.url, new HttpError(503, `The script took longer than ${options.timeout} s and was stopped`), ctx);
  }

  /** Writes a result; what cannot be written (e.g. an invalid header) fails the request. */
  function send(ctx: PageContext, result: PageResult): void {
    const { req, res } = ctx;
    if (res.headersSent || res.destroyed) return;
    try {
      const sending = sendResult(res, result, ctx.cookies, req.method === 'HEAD', acceptEncoding(req));
      if (sending) sending.catch((err: unknown) => scriptFailed(ctx, err));
    } catch (err) {
      scriptFailed(ctx, err);
    }
  }

  /** A script error, or what it asked for could not be written. */
  function scriptFailed(ctx: PageContext, err: unknown): void {
    if (!ctx.res.headersSent && !ctx.res.destroyed) fail(ctx.req, ctx.res, ctx.url, err, ctx);
  }

  /** Development: a static HTML page goes through the filters too (the live-reload script). */
  function serveFilteredHtml(req: Req, res: Res, file: string): void {
    const result: PageResult = { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: fs.readFileSync(file, 'utf8') };
    const ctx = { req, res, file, root, deps: new Set<string>([file]) } as unknown as PageContext;
    applyFilters(result, ctx);
    void sendResult(res, result, [], req.method === 'HEAD', acceptEncoding(req));
  }

  /** What sendResult needs to compress: the request, undefined with --no-compression. */
  function acceptEncoding(req: Req): Req | undefined {
    return options.compression ? req : undefined;
  }

  /** One access-log entry (log.ts formats it). */
  function logAccess(req: Req, res: Res, url: string, ms: number): void {
    const status = res.statusCode;
    const length = sentHeader(res, 'content-length');
    const bodyless = req.method === 'HEAD' || status === 204 || status === 304;
    const id = sentHeader(res, 'x-request-id');
    log.access({
      method: req.method ?? '-',
      url,
      status,
      ms,
      bytes: bodyless ? 0 : length !== undefined ? Number(length) : (sentCount(res) ?? 0),
      httpVersion: req.httpVersion,
      remote: req.socket?.remoteAddress,
      referer: req.headers.referer,
      userAgent: req.headers['user-agent'],
      requestId: id,
    });
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
    if (method !== 'GET' && method !== 'HEAD') await readBodyFields(ctx.req, fieldsOf(ctx), options);
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
    if (deps.filters.length && result.headers['content-type']?.startsWith('text/html')) applyFilters(result, ctx);
    return result;
  }

  /** The filters, for a page a browser shows (curl, fetch and a page's own requests get the result as it is). */
  function applyFilters(result: PageResult, ctx: PageContext): void {
    if (showsPage(ctx.req)) for (const filter of deps.filters) filter(result, ctx);
  }

  /** Every error answer of a request goes out here (through sendError): HttpError, script error, timeout. */
  function fail(req: Req, res: Res, url: string, err: unknown, ctx?: PageContext): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Nothing the failed response had prepared goes out (a Location, a bad header …).
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    // A body we did not read to its end: the connection cannot be reused.
    const headers: Record<string, string> = req.complete ? {} : { connection: 'close' };
    const format = ctx ? errorFormatOf(ctx) : undefined;
    if (err instanceof HttpError) {
      sendError(req, res, err.status, err.message, { headers: { ...err.headers, ...headers }, cookies: ctx?.cookies, format });
      return;
    }
    const id = randomBytes(6).toString('hex');
    const report = reportError(err, root, registry.unitOf, includeChainOf(err, root));
    log.error(reportText(report, root, `${req.method} ${url}`, id));
    headers['cache-control'] = 'no-store';
    headers['x-request-id'] = id;
    const generic = `The page failed. Request id: ${id} (details are in the server's log).`;
    if (format === 'json') {
      const where = report.location ? ` (${relative(root, report.location.file)}:${report.location.line}:${report.location.column})` : '';
      sendError(req, res, 500, dev ? `${report.title}: ${report.message}${where}` : generic, { headers, format });
      return;
    }
    // A script error is an HTML page for every client except a service's (the error page is where the details are).
    let page: string | undefined;
    if (dev) {
      const result: PageResult = { status: 500, headers: { 'content-type': 'text/html; charset=utf-8' }, body: renderDevErrorPage(report, root, url) };
      if (ctx) applyFilters(result, ctx);
      page = result.body as string;
    }
    sendError(req, res, 500, generic, { headers, page, format: 'html' });
  }

  return {
    handle,
    close() {
      deadlines.close();
      resolver.close();
    },
    forget(file: string) {
      forget(file);
      resolver.clear();
    },
  };
}

/**
 * A header of a response already sent. writeHead(status, object) — the fast path
 * pages and static files take — does not keep its headers for getHeader, but
 * HTTP/1 keeps the head it wrote; HTTP/2's compatibility response keeps them all.
 */
const SENT_HEADER: Record<string, RegExp> = {};
function sentHeader(res: Res, name: string): string | undefined {
  const head = (res as { _header?: unknown })._header;
  if (typeof head === 'string') return (SENT_HEADER[name] ??= new RegExp(`\\r\\n${name}: *([^\\r]*)`, 'i')).exec(head)?.[1];
  const value = res.getHeader(name);
  return value === undefined ? undefined : String(value);
}

function absolutePath(target: string): string {
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}
