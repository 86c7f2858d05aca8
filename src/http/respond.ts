/**
 * The one way out for an error answer: the handler, static files, services,
 * the live-reload endpoint and 405s all answer through `sendError`, so a
 * status always has the same format (`errorAnswer` in script/errors.ts).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Req, Res } from '../exchange.js';
import { errorAnswer, errorFormat, type ErrorFormat } from '../script/errors.js';
import { NOSNIFF_NAME, NOSNIFF_VALUE } from '../encoding.js';

export interface ErrorOptions {
  /** Extra headers (`allow`, `www-authenticate`, `x-request-id` …). */
  headers?: Record<string, string>;
  /** Cookies the script had set (a session created before the error). */
  cookies?: string[];
  /** The format; by default the one `errorFormat` picks for the request (a page for browsers, the message for others). */
  format?: ErrorFormat;
  /** A whole HTML page to send, in the html format, instead of the plain one (development's error page). */
  page?: string;
}

/** Answers `status` with `message`; a HEAD gets the headers only. Headers already sent: the connection is cut. */
export function sendError(req: Req, res: Res, status: number, message: string, opts: ErrorOptions = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const format = opts.format ?? errorFormat(req.headers.accept, false);
  const { type, body } = opts.page !== undefined && format === 'html' ? { type: 'text/html; charset=utf-8', body: opts.page } : errorAnswer(status, message, format);
  if (opts.cookies?.length) res.setHeader('set-cookie', opts.cookies);
  const headers = { ...opts.headers };
  // HTTP/2 has no connection-level headers (each stream ends on its own); Node would drop it with a warning.
  if (req.httpVersionMajor >= 2) delete headers.connection;
  if (headers.connection === 'close' && !req.complete) lingerOnClose(req);
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body), [NOSNIFF_NAME]: NOSNIFF_VALUE });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A lingering close ends when the client closes, after this long without a byte from it, */
const LINGER_IDLE_MS = 1000;
/** and at the latest after this long (nginx's lingering_timeout and lingering_time, shorter). */
const LINGER_MAX_MS = 5000;

/**
 * A lingering close (RFC 9112 §9.6) for an answer sent before the request's body
 * was read to its end (413, 403 …). Node closes such a connection as soon as the
 * answer is written; the client's bytes still arriving then make the kernel reset
 * it, and a client that had not yet read the answer loses it (it sees EPIPE or
 * ECONNRESET instead of the 413). So Node's close is replaced, for this socket, by:
 * send the answer and a FIN, go on reading and dropping what comes, and close once
 * the client closes its side, is quiet for LINGER_IDLE_MS, or LINGER_MAX_MS have
 * passed. `destroySoon` is what Node's HTTP server calls after a `Connection:
 * close` answer. Bun's and Deno's adapter drains the body its own way (`linger`);
 * HTTP/2 ends the stream alone, the connection stays.
 */
function lingerOnClose(req: Req): void {
  if (req.linger) return req.linger(LINGER_MAX_MS);
  const s = req.socket as Partial<Socket> | undefined;
  if (typeof s?.destroySoon !== 'function' || typeof s.setTimeout !== 'function') return;
  const sock = s as Socket;
  // The pipeline paused the body where it stopped reading (fields.ts): what comes now is dropped, not kept.
  (req as unknown as Readable).resume();
  sock.destroySoon = function lingeringClose(this: Socket): void {
    const close = (): void => void this.destroy();
    const latest = setTimeout(close, LINGER_MAX_MS);
    latest.unref();
    this.once('close', () => clearTimeout(latest));
    this.once('end', close);
    this.setTimeout(LINGER_IDLE_MS, close);
    this.end();
    this.resume();
  };
}

/** The requested path as echoed in a 404: cut, and percent-encoded where it could be read as markup (the text format is not escaped). */
export function echoPath(pathname: string): string {
  const cut = pathname.length > 200 ? pathname.slice(0, 200) + '…' : pathname;
  return cut.replace(/[<>"'`\s]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** `Sec-Fetch-Dest` of requests that show a document. */
const NAVIGATION_DESTS = new Set(['document', 'iframe', 'frame', 'embed', 'object']);

/**
 * True for a browser loading a page (a navigation, a frame): in development only
 * those get the live-reload script. A fragment fetched by a page's script (fetch,
 * XMLHttpRequest, htmx), curl or an API client gets exactly what production would
 * send. Browsers say `Sec-Fetch-Dest`; older ones ask for `text/html` when they navigate.
 */
export function showsPage(req: Req): boolean {
  // The live-reload script's own fetch of the page (to morph it) says so.
  if (req.headers['x-karrigell-live'] !== undefined) return true;
  const dest = req.headers['sec-fetch-dest'];
  if (dest !== undefined) return NAVIGATION_DESTS.has(dest);
  return (req.headers.accept ?? '').includes('text/html');
}
