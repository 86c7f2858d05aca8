/**
 * The server side of browser live reload: the event stream under
 * `/__karrigell/events` (Server-Sent Events) and the script added to HTML
 * responses.
 *
 * Every change gets a sequence number and is kept in a short log. A page
 * says, when it opens its stream, which change it reflects (the number when
 * its request began), which file it is and what else it used; a change made
 * between its rendering and its connection is therefore never missed.
 */
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Req, Res } from '../exchange.js';
import type { PageResult } from '../script/page.js';
import type { PageContext } from '../script/context.js';
import type { LiveMode } from '../options.js';
import { clientScript, injectScript, type ClientConfig } from './reload-client.js';
import { echoPath, sendError } from '../http/respond.js';
import { updateModule, updatePath } from './update-client.js';
import { NOSNIFF_NAME, NOSNIFF_VALUE } from '../encoding.js';
import { trace, tracing } from './trace.js';

/** URL paths under this prefix are the server's own (a user's `_` paths are never served). */
export const LIVE_PREFIX = '/__karrigell/';
export const EVENTS_PATH = LIVE_PREFIX + 'events';

/** One change, as the watcher saw it. */
export interface Change {
  /** Absolute path. */
  file: string;
  kind: 'add' | 'change' | 'unlink';
  /** The file and every user file that depends on it (pages and modules). */
  affected: ReadonlySet<string>;
  /** Every page must reload (configuration changed). */
  all?: boolean;
  /** URL path of a file the site serves as is (not a script), for `css`/`asset` swaps. */
  url?: string;
}

interface LoggedChange extends Change {
  seq: number;
}

interface Client {
  res: Res;
  /** Its server: the stream ends once it stops listening. */
  server: { readonly listening: boolean } | undefined;
  page: string;
  extras: Set<string>;
  error: boolean;
  any: boolean;
}

/** Changes remembered for pages that connect late (hidden tabs, slow loads). */
const LOG_MAX = 256;
/** Most extra files a page lists; beyond that, any change reloads it. */
const EXTRAS_MAX = 200;
const HEARTBEAT_MS = 20_000;
/** How often open streams check that their server still listens (close() does not end streaming responses). */
const CLOSE_POLL_MS = 100;
const SCRIPT_RE = /<script\b[\s\S]*?<\/script\s*>/gi;
const HEAD_RE = /<head\b[^>]*>([\s\S]*?)<\/head\s*>/i;

/**
 * A hash of what an update in place cannot apply: every `<script>` (a new
 * script must run) and the `<head>` but for its `<title>` and the text of its
 * `<style>`s (the update changes those in place). Computed here, on what the
 * server sends, so neither the page's own scripts nor a stylesheet swap in
 * the browser make two answers differ.
 */
function assetHash(html: string): string {
  const head = HEAD_RE.exec(html)?.[1] ?? '';
  const hash = createHash('sha1').update(head.replace(/<title\b[\s\S]*?<\/title\s*>/gi, '').replace(/(<style\b[^>]*>)[\s\S]*?<\/style\s*>/gi, '$1'));
  for (const m of html.matchAll(SCRIPT_RE)) hash.update('\0' + m[0]);
  return hash.digest('base64url').slice(0, 12);
}

/** Files whose creation or deletion may fix a page that failed (a missing import, a misplaced module). */
const SOURCE_RE = /\.(?:[cm]?[jt]sx?|tsp|json)$/;

export interface ReloadHub {
  /** The `early` hook: answers the event stream; notes when other requests begin. */
  early(req: Req, res: Res, pathname: string): boolean;
  /** The `filters` hook: adds the client script to an HTML result. */
  filter(result: PageResult, ctx: PageContext): void;
  /** Tells the pages concerned by a change; returns the files (pages and extras) of those told to reload. */
  publish(change: Change): Set<string>;
  /** Open event streams (for tests and diagnostics). */
  readonly clients: number;
  /** Ends every stream. */
  close(): void;
}

/** The in-place update module (update-client.ts): immutable at its URL, which names its content. */
function serveUpdateModule(req: Req, res: Res): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(req, res, 405, `Method ${req.method} is not allowed here`, { headers: { allow: 'GET, HEAD' } });
  updateModule().then(
    (code) => {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', 'content-length': Buffer.byteLength(code), [NOSNIFF_NAME]: NOSNIFF_VALUE });
      res.end(req.method === 'HEAD' ? undefined : code);
    },
    (err: unknown) => sendError(req, res, 500, `karrigell-ts: the live update module could not be built: ${String(err)}`),
  );
}

/** The live-reload hub of the site in `root`. */
export function createReloadHub(root: string, mode: LiveMode = 'in-place'): ReloadHub {
  const boot = randomBytes(6).toString('hex');
  const clients = new Set<Client>();
  const changes: LoggedChange[] = [];
  let seq = 0;
  /** The sequence number when each request began: its response reflects every change up to it. */
  const startedAt = new WeakMap<Req, number>();
  let ticker: NodeJS.Timeout | undefined;
  let ticks = 0;
  let closed = false;

  const rel = (file: string): string => path.relative(root, file).split(path.sep).join('/');
  const abs = (relPath: string): string => path.resolve(root, relPath);

  function concerns(c: Client, ch: Change): boolean {
    if (c.any || ch.all || ch.affected.has(c.page)) return true;
    for (const f of c.extras) if (ch.affected.has(f)) return true;
    return c.error && ch.kind !== 'change' && SOURCE_RE.test(ch.file) && path.basename(ch.file)[0] !== '.';
  }

  function send(c: Client, event: string, id: number, data: unknown): void {
    if (!c.res.writableEnded && !c.res.destroyed) c.res.write(`event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  function end(c: Client): void {
    clients.delete(c);
    if (!c.res.writableEnded) c.res.end();
    if (!clients.size && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  function tick(): void {
    ticks++;
    const beat = ticks % Math.round(HEARTBEAT_MS / CLOSE_POLL_MS) === 0;
    for (const c of clients) {
      if (c.server && !c.server.listening) end(c);
      else if (beat && !c.res.writableEnded) c.res.write(': ping\n\n');
    }
  }

  function connect(req: Req, res: Res, search: URLSearchParams): void {
    const page = search.get('p');
    const extras = search.getAll('d');
    const client: Client = {
      res,
      server: (req.socket as { server?: { readonly listening: boolean } }).server,
      page: page ? abs(page) : '',
      extras: new Set(extras.slice(0, EXTRAS_MAX).map(abs)),
      error: search.get('x') === '1',
      any: search.get('a') === '1' || extras.length > EXTRAS_MAX || !page,
    };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      [NOSNIFF_NAME]: NOSNIFF_VALUE,
      // One stream per connection: closing it ends the connection (nothing keeps a server from closing).
      // HTTP/2 has no such header: there the stream is one of many on the connection and ends by itself.
      ...(req.httpVersionMajor >= 2 ? {} : { connection: 'close' }),
    });
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    res.write(`retry: 500\n\n`);

    // A page from another run of the server, or older than what is remembered: reload it.
    const numbers = [search.get('s'), req.headers['last-event-id']].map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : -1));
    const since = Math.max(...numbers);
    const oldest = changes.length ? changes[0]!.seq : seq + 1;
    if (search.get('b') !== boot || since < 0 || since > seq || since < oldest - 1) {
      send(client, 'reload', seq, { reason: search.get('b') !== boot ? 'the server restarted' : 'changes were missed' });
      res.end();
      return;
    }
    for (let i = changes.length - 1; i >= 0 && changes[i]!.seq > since; i--) {
      if (concerns(client, changes[i]!)) {
        send(client, 'reload', seq, { file: rel(changes[i]!.file) });
        res.end();
        return;
      }
    }
    clients.add(client);
    ticker ??= setInterval(tick, CLOSE_POLL_MS);
    ticker.unref();
    res.on('close', () => end(client));
  }

  return {
    early(req, res, pathname) {
      if (!pathname.startsWith(LIVE_PREFIX)) {
        startedAt.set(req, seq);
        if (tracing() && req.headers['x-karrigell-live'] !== undefined) {
          trace('request', pathname);
          res.once('finish', () => trace('answered', pathname));
        }
        return false;
      }
      if (pathname === updatePath() && !closed) {
        serveUpdateModule(req, res);
        return true;
      }
      if (pathname !== EVENTS_PATH || closed) {
        sendError(req, res, 404, `Nothing at ${echoPath(pathname)}`);
        return true;
      }
      if (req.method !== 'GET') {
        sendError(req, res, 405, `Method ${req.method} is not allowed here`, { headers: { allow: 'GET' } });
        return true;
      }
      const q = req.url!.indexOf('?');
      connect(req, res, new URLSearchParams(q >= 0 ? req.url!.slice(q + 1) : ''));
      return true;
    },

    filter(result, ctx) {
      if (typeof result.body !== 'string') return;
      const deps = [...(ctx.deps ?? [])].filter((f) => f !== ctx.file).map(rel);
      const config: ClientConfig = { e: EVENTS_PATH, b: boot, s: startedAt.get(ctx.req) ?? seq, p: rel(ctx.file), d: deps.length > EXTRAS_MAX ? [] : deps, h: assetHash(result.body) };
      if (deps.length > EXTRAS_MAX) config.a = 1;
      if (mode === 'full') config.r = 1;
      if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') config.f = 1;
      // An error page (or a not-found page, should one be given the script) also comes back when a source file appears or goes.
      if (result.status >= 500 || result.status === 404) config.x = 1;
      result.body = injectScript(result.body, clientScript(config));
      // A browser shows a page: have the update module ready before its first change (bundled once per process).
      if (mode === 'in-place' || config.f) updateModule().catch(() => {});
    },

    publish(change) {
      const reloading = new Set<string>();
      if (closed) return reloading;
      const logged: LoggedChange = { ...change, seq: ++seq };
      changes.push(logged);
      if (changes.length > LOG_MAX) changes.splice(0, changes.length - LOG_MAX);
      const file = rel(change.file);
      for (const c of clients) {
        if (concerns(c, change)) {
          send(c, 'reload', seq, { file });
          end(c);
          if (c.page) reloading.add(c.page);
          for (const f of c.extras) reloading.add(f);
        } else if (change.url && change.kind !== 'unlink') {
          send(c, change.url.endsWith('.css') ? 'css' : 'asset', seq, { url: change.url });
        }
      }
      trace('published', change.file);
      return reloading;
    },

    get clients() {
      return clients.size;
    },

    close() {
      closed = true;
      for (const c of [...clients]) end(c);
      changes.length = 0;
    },
  };
}
