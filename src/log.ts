/** The server's messages: access log on stdout (text, combined or json), problems on stderr. */

/** What the access log knows of one answered request. */
export interface AccessEntry {
  method: string;
  url: string;
  status: number;
  ms: number;
  /** Body bytes sent (0 for HEAD, 204, 304). */
  bytes: number;
  httpVersion: string;
  remote: string | undefined;
  referer: string | undefined;
  userAgent: string | undefined;
  /** The id of a failed request (also in the `X-Request-Id` header and the error report). */
  requestId: string | undefined;
}

export interface Logger {
  access(entry: AccessEntry): void;
  info(message: string): void;
  error(message: string): void;
}

/** Logger writing to the process streams; `quiet` drops the access log; `format` is `text`, `combined` or `json` (SPEC §1). */
export function createLogger(quiet: boolean, format = 'text'): Logger {
  const line = format === 'combined' ? combinedLine : format === 'json' ? jsonLine : textLine;
  return {
    access(entry) {
      if (!quiet) process.stdout.write(line(entry) + '\n');
    },
    info(message) {
      process.stdout.write(message + '\n');
    },
    error(message) {
      process.stderr.write(message + '\n');
    },
  };
}

function textLine(e: AccessEntry): string {
  return `${e.method} ${e.url} ${e.status} ${e.ms.toFixed(1)}ms`;
}

/** Apache/nginx "combined": `host - - [06/Dec/2026:22:03:41 +0000] "GET /a HTTP/1.1" 200 1234 "referer" "agent"`. */
function combinedLine(e: AccessEntry): string {
  const q = (v: string | undefined): string => (v === undefined ? '"-"' : `"${escapeLogValue(v)}"`);
  return `${e.remote ?? '-'} - - [${clfDate(new Date())}] "${escapeLogValue(`${e.method} ${e.url} HTTP/${e.httpVersion}`)}" ${e.status} ${e.bytes || '-'} ${q(e.referer)} ${q(e.userAgent)}`;
}

function jsonLine(e: AccessEntry): string {
  const o: Record<string, string | number> = { time: new Date().toISOString(), method: e.method, path: e.url, status: e.status, bytes: e.bytes, ms: Math.round(e.ms * 10) / 10 };
  if (e.requestId) o.requestId = e.requestId;
  if (e.remote) o.remote = e.remote;
  return JSON.stringify(o);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** The Common Log Format date, in UTC. */
function clfDate(d: Date): string {
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** As nginx does: `"` and `\` and control or non-ASCII bytes as \xHH, so a request cannot forge a log line or a field. */
function escapeLogValue(v: string): string {
  return v.replace(/["\\]|[^\x20-\x7e]/g, (c) =>
    [...Buffer.from(c)].map((b) => '\\x' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/** Body bytes of streamed answers (no Content-Length), counted as they go out. */
const streamed = new WeakMap<object, number>();

/** Adds `n` to the body bytes counted for `res` (a streamed answer). */
export function countSent(res: object, n: number): void {
  streamed.set(res, (streamed.get(res) ?? 0) + n);
}

/** The body bytes counted for a streamed answer. */
export function sentCount(res: object): number | undefined {
  return streamed.get(res);
}

/** The one line printed once the server listens (SPEC §1). */
export function bannerLine(root: string, url: string, production: boolean, workers = 1): string {
  const mode = production ? 'production' : 'development, live reload';
  return `karrigell-ts: serving ${root} at ${url} (${mode}${workers > 1 ? `, ${workers} workers` : ''})`;
}
