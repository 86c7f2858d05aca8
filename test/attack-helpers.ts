/**
 * Helpers of the hardening tests (issue 8): raw HTTP over net sockets (no
 * client-side validation or normalisation at all), a strict parser of the raw
 * response bytes, file-descriptor and heap probes, a watcher of the process's
 * stray failures, and a server in a child process that reports its own memory.
 */
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { spawnCli, type CliProcess } from './helpers.js';

/** What came back on one raw connection. */
export interface RawHttpResponse {
  /** Every byte the server sent. */
  raw: Buffer;
  /** Status of the final (non-1xx) response; 0 when nothing parseable came back. */
  status: number;
  /** The header lines as sent (without the status line), in order. */
  headerLines: string[];
  /** Lower-cased header names → values, in order. */
  headers: Record<string, string[]>;
  /** The body, de-chunked. */
  body: Buffer;
  text: string;
  /** The connection was still open when the timeout fired. */
  timedOut: boolean;
}

export interface SendRawOptions {
  /** Give up (and destroy the socket) after this many ms. */
  timeoutMs?: number;
  /** The request was a HEAD: a body is not expected. */
  head?: boolean;
  /** Stop as soon as one whole response has arrived (do not wait for the server to close). */
  untilComplete?: boolean;
}

/**
 * Writes `data` (a whole request, as bytes) on a fresh connection to
 * 127.0.0.1:`port` and collects everything until the server closes it (send
 * `Connection: close`) or `timeoutMs` passes.
 */
export function sendRaw(port: number, data: string | Buffer | (string | Buffer)[], opts: SendRawOptions = {}): Promise<RawHttpResponse> {
  const { timeoutMs = 5000, head = false, untilComplete = false } = opts;
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timedOut = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(parseRawResponse(Buffer.concat(chunks), head, timedOut));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      finish();
    }, timeoutMs);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      if (untilComplete && isComplete(Buffer.concat(chunks), head)) finish();
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
    for (const piece of Array.isArray(data) ? data : [data]) sock.write(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece);
  });
}

/** True once `raw` holds a whole final response (by Content-Length or the last chunk). */
function isComplete(raw: Buffer, head: boolean): boolean {
  const res = parseRawResponse(raw, head);
  if (res.status === 0) return false;
  if (head || res.status === 204 || res.status === 304) return true;
  const start = raw.lastIndexOf('\r\n\r\n', raw.length, 'latin1');
  if ((res.headers['transfer-encoding']?.[0] ?? '').toLowerCase() === 'chunked') return raw.subarray(raw.length - 5).toString('latin1') === '0\r\n\r\n' && start >= 0;
  if (res.headers['content-length']) return res.body.length >= Number(res.headers['content-length'][0]);
  return false;
}

/** Parses raw response bytes: skips 1xx interim answers, de-chunks the body. */
export function parseRawResponse(raw: Buffer, head = false, timedOut = false): RawHttpResponse {
  let offset = 0;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', offset, 'latin1');
    if (end < 0) return { raw, status: 0, headerLines: [], headers: {}, body: Buffer.alloc(0), text: '', timedOut };
    const lines = raw.subarray(offset, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    const status = m ? Number(m[1]) : 0;
    const headerLines = lines.slice(1);
    const headers: Record<string, string[]> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      const name = (colon < 0 ? line : line.slice(0, colon)).trim().toLowerCase();
      (headers[name] ??= []).push(colon < 0 ? '' : line.slice(colon + 1).trim());
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    let body: Buffer;
    if (head || status === 204 || status === 304) body = Buffer.alloc(0);
    else if ((headers['transfer-encoding']?.[0] ?? '').toLowerCase() === 'chunked') body = dechunk(raw.subarray(bodyStart));
    else if (headers['content-length']) body = raw.subarray(bodyStart, bodyStart + Number(headers['content-length'][0]));
    else body = raw.subarray(bodyStart);
    return { raw, status, headerLines, headers, body, text: body.toString('utf8'), timedOut };
  }
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < data.length) {
    const eol = data.indexOf('\r\n', i, 'latin1');
    if (eol < 0) break;
    const size = parseInt(data.subarray(i, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** A GET (or other method) request as raw text, `Connection: close`. */
export function rawGet(target: string, headers: Record<string, string> = {}, method = 'GET'): string {
  let text = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
  return text + '\r\n';
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

let gcFn: (() => void) | undefined;
/** A real `gc()` in this process, without `--expose-gc` on the command line. */
export function forceGc(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

/** Heap in use after a full collection. */
export async function settledHeap(): Promise<number> {
  await new Promise((r) => setTimeout(r, 50));
  forceGc();
  await new Promise((r) => setImmediate(r));
  forceGc();
  return process.memoryUsage().heapUsed;
}

/** Waits until `check()` is true (polling), up to `ms`; returns its last value. */
export async function waitUntil(check: () => boolean, ms: number, every = 25): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, every));
  }
  return true;
}

/** Records the process's unhandled rejections and uncaught exceptions while installed. */
export function watchStrayFailures(): { failures: string[]; stop(): void } {
  const failures: string[] = [];
  const onRejection = (reason: unknown): void => void failures.push(`unhandledRejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  const onException = (err: unknown): void => void failures.push(`uncaughtException: ${err instanceof Error ? err.stack : String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    failures,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** A logger for createServer that keeps what it is told. */
export function memoryLog(): { access(): void; info(): void; error(m: string): void; errors: string[] } {
  const errors: string[] = [];
  return { access() {}, info() {}, error: (m: string) => void errors.push(m), errors };
}

/**
 * A page script that reports its server process's memory (after a full GC
 * when the process runs with --expose-gc) and open file descriptors, as JSON.
 */
export const MEMORY_PAGE = `import { readdirSync } from 'node:fs';
RESPONSE.headers['content-type'] = 'application/json';
const g = (globalThis as { gc?: () => void }).gc;
if (g) { g(); await new Promise((r) => setImmediate(r)); g(); }
print(JSON.stringify({ ...process.memoryUsage(), fds: readdirSync('/proc/self/fd').length, gc: typeof g === 'function' }));
`;

export interface ChildMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  fds: number;
  gc: boolean;
}

/** A CLI server in a child process started with --expose-gc (and optionally its own TMPDIR). */
export async function startChildServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess & { port: number; memory(): Promise<ChildMemory> }> {
  const cli = await spawnCli(['serve', ...args, '--port', '0', '--host', '127.0.0.1', '--quiet'], { NODE_OPTIONS: '--expose-gc', ...env });
  const port = Number(new URL(cli.url).port);
  return {
    ...cli,
    port,
    async memory() {
      const res = await sendRaw(port, rawGet('/memory'), { timeoutMs: 10_000 });
      if (res.status !== 200) throw new Error(`/memory answered ${res.status}: ${res.text.slice(0, 300)}`);
      return JSON.parse(res.text) as ChildMemory;
    },
  };
}

/** Every file below `dir` (relative paths), following no links. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(path.join(d, e.name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** A fresh empty folder under the system temp folder. */
export function freshDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Tags a hostile payload uses and the server never writes itself. */
const FOREIGN_TAGS = new Set(['img', 'svg', 'iframe', 'object', 'embed', 'marquee', 'x-evil', 'math', 'base', 'form']);
/** Attributes a hostile payload uses (the server's own `onclick` on its banner's button is not among them). */
const FOREIGN_ATTRS = /^(?:onerror|onload|onmouseover|onfocus|onbegin|formaction|autofocus|x-evil-attr|srcdoc)$/i;

/**
 * Markup in `body` that does not come from the server: tags and attributes
 * of the payloads above, a `<script>` other than the live-reload one, an
 * `href`/`src` with a `javascript:` URL. Empty when everything was escaped.
 */
export function injectedMarkup(body: string): string[] {
  const problems: string[] = [];
  // The server's own inline code: the live-reload client and the page styles.
  const own = body.replace(/<script data-karrigell-live>[\s\S]*?<\/script>/g, '').replace(/<style>[\s\S]*?<\/style>/g, '');
  const tagRe = /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g;
  const attrRe = /\s([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g;
  for (const m of own.matchAll(tagRe)) {
    const tag = m[1]!.toLowerCase();
    if (FOREIGN_TAGS.has(tag)) problems.push(`foreign tag: ${m[0]}`);
    if (tag === 'script') problems.push(`script element: ${m[0]}`);
    for (const a of (m[2] ?? '').matchAll(attrRe)) {
      const name = a[1]!;
      if (FOREIGN_ATTRS.test(name)) problems.push(`foreign attribute ${name} in ${m[0]}`);
      const value = decodeEntities((a[2] ?? '').replace(/^["']|["']$/g, '')).replace(/[\s\x00-\x1f]/g, '');
      if (/^(?:href|src|action)$/i.test(name) && /^javascript:/i.test(value)) problems.push(`javascript: URL in ${m[0]}`);
    }
  }
  return problems;
}

/** The text of HTML entities as the server writes them. */
export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]!);
}
