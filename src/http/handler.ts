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
import { runPage, sendResult, type PageResult } from '../script/page.js';
import type { PageContext, ScopeExtensions } from '../script/context.js';
import { HttpError, statusText } from '../script/signals.js';
import { relative, renderDevErrorPage, renderPlainPage, reportError, reportText } from '../script/errors.js';
import type { ModuleRegistry } from '../script/modules.js';
import type { ServerOptions } from '../options.js';
import type { Logger } from '../log.js';
import type { SessionBackend } from '../session/memory.js';
import { includeChainOf } from '../names/include.js';

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
  /** Told how many scripts are in flight at each start and end (the timeout watchdog). */
  track?: { inFlight(count: number): void };
}

/** Creates the `(req, res)` function of the server. */
export function createHandler(deps: HandlerDeps): {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Stops the deadline sweeper. */
  close(): void;
  /** Forgets what is cached about a file (and all path resolutions): the watcher calls it. */
  forget(file: string): void;
} {
  const { options, root, registry, log, sessions } = deps;
  const { serveStatic, forget } = createStaticServer();
  const resolver = createResolver(root, options.listing);
  const deadlines = createDeadlines(options.timeout, deps.track, (ctx) => timedOut(ctx));
  const dev = !options.production;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (!options.quiet) {
      const started = performance.now();
      res.once('finish', () => log.access(req.method ?? '-', url, res.statusCode, performance.now() - started));
    }
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
        runScript(req, res, url, search, target);
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

  /**
   * A page script. A page that answers synchronously (the common case) is run,
   * sent and forgotten without a promise, a timer or a closure; a page that
   * awaits gets its deadline (`--timeout`) when it starts waiting.
   */
  function runScript(req: IncomingMessage, res: ServerResponse, url: string, search: string, target: Extract<Target, { kind: 'script' }>): void {
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
      // A plain object (a null-prototype one is a slow dictionary to walk); names
      // come from our code or through RESPONSE.headers, whose own store has no prototype.
      headers: {},
      cookies: [],
      out: [],
      pending: [],
      trustProxy: options.trustProxy,
      origin: undefined,
      extensions: deps.extensions,
      session: {},
      chain: [],
      deps: dev ? new Set<string>() : undefined,
      names: undefined,
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
      const sending = sendResult(res, result, ctx.cookies, req.method === 'HEAD');
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
 * `--timeout`, and the count of scripts in flight that the watchdog reads.
 * One sweeping timer serves all requests (none per request), and runs only
 * while a script is in flight. A page that awaits is entered with its
 * deadline. A page that runs synchronously is only noted in `running`: no
 * timer can fire meanwhile, so a sweep that finds it there means the watchdog
 * stopped its loop (the stop unwinds past every catch and finally), and it is
 * answered then, or by the next page's `enter`, whichever comes first.
 * Every script is counted out exactly once: settled, finished or timed out.
 */
interface Deadlines {
  /** A page starts running synchronously. */
  enter(ctx: PageContext): void;
  /** It returned (or threw) without awaiting. */
  settle(ctx: PageContext): void;
  /** It returned a promise: its deadline starts. */
  wait(ctx: PageContext): void;
  /** The promise settled: false if the deadline came first (it was answered). */
  finish(ctx: PageContext): boolean;
  close(): void;
}

function createDeadlines(seconds: number, track: HandlerDeps['track'], onTimeout: (ctx: PageContext) => void): Deadlines {
  if (!(seconds > 0)) return { enter() {}, settle() {}, wait() {}, finish: () => true, close() {} };
  const ms = seconds * 1000;
  const waiting = new Map<PageContext, number>();
  let running: PageContext | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  // The count is recomputed, never incremented: a stop landing between two of
  // these lines cannot leave it wrong for longer than the next change.
  const counted = (): void => track?.inFlight(waiting.size + (running ? 1 : 0));
  const stopRunning = (): void => {
    const stuck = running!;
    running = undefined;
    waiting.delete(stuck);
    counted();
    onTimeout(stuck);
  };
  const sweep = (): void => {
    if (running) stopRunning();
    const now = Date.now();
    for (const [ctx, deadline] of waiting) {
      if (deadline <= now) {
        waiting.delete(ctx);
        counted();
        onTimeout(ctx);
      }
    }
    if (!waiting.size && !running) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  return {
    enter(ctx) {
      if (running) stopRunning();
      running = ctx;
      counted();
      sweeper ??= setInterval(sweep, Math.min(250, Math.max(10, ms / 10))).unref();
    },
    settle(ctx) {
      if (running !== ctx) return;
      running = undefined;
      counted();
    },
    wait(ctx) {
      waiting.set(ctx, Date.now() + ms);
      running = undefined;
      counted();
    },
    finish(ctx) {
      if (!waiting.delete(ctx)) return false;
      counted();
      return true;
    },
    close() {
      clearInterval(sweeper);
      sweeper = undefined;
    },
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
