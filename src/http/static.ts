/**
 * Serves a static file (SPEC §2, §10): content type, validators, conditional
 * requests in RFC 9110 §13.2.2's order, HEAD, byte ranges, compression (a
 * precompressed sibling, or a form made once and kept with the file in memory).
 */
import fs from 'node:fs';
import type { Req, Res } from '../exchange.js';
import { pipeline, type Readable } from 'node:stream';
import mime from 'mime-types';
import { sendError } from './respond.js';
import { countSent } from '../log.js';
import {
  chooseCoding,
  codedEtag,
  compressAsync,
  compressStream,
  isCompressible,
  MIN_COMPRESS,
  NOSNIFF_NAME,
  NOSNIFF_VALUE,
  SIBLING_SUFFIX,
  type Coding,
} from '../encoding.js';

/** Files up to this size are kept in memory with their compressed forms (revalidated by size and mtime on each request). */
const CACHE_MAX_FILE = 256 * 1024;
const CACHE_MAX_TOTAL = 32 * 1024 * 1024;

export interface StaticOptions {
  production: boolean;
  compression: boolean;
  /** Production's `Cache-Control: public, max-age=S`. */
  staticMaxAge: number;
}

/** One representation of a file: as it is, or in one coding. */
interface Form {
  etag: string;
  /** The headers of a 200 (no Content-Length). */
  headers: Record<string, string>;
  coding: Coding | undefined;
  /** The bytes, when kept in memory. */
  data: Buffer | undefined;
  /** Otherwise read from this file (the file itself or its precompressed sibling)… */
  path: string;
  /** …of this size; undefined when compressed as it streams (no Content-Length). */
  size: number | undefined;
  /** The 200's headers with Content-Length, flat for writeHead's fast path (forms in memory). */
  flat: string[] | undefined;
}

interface Cached {
  mtimeMs: number;
  size: number;
  /** Worth compressing (type and size); known once per file. */
  compressible: boolean;
  identity: Form;
  /** Each coding's form, or the promise of it while it is made (the identity form when compressing did not pay). */
  coded: Map<Coding, Form | Promise<Form>>;
  /** Bytes held: the file and its forms. */
  bytes: number;
}

/** Creates the static-file responder; its in-memory table is bounded. */
export function createStaticServer(options: StaticOptions): {
  serveStatic(req: Req, res: Res, file: string, st: fs.Stats): void;
  forget(file: string): void;
} {
  const cache = new Map<string, Cached>();
  let cachedBytes = 0;
  // Development: always revalidate (the ETag makes it cheap), so an edited image or script shows on reload.
  const cacheControl = options.production ? `public, max-age=${options.staticMaxAge}` : 'no-cache';

  function forget(file: string): void {
    // A precompressed sibling changed: the forms made from it go too.
    for (const suffix of Object.values(SIBLING_SUFFIX)) if (file.endsWith(suffix)) forget(file.slice(0, -suffix.length));
    const old = cache.get(file);
    if (old) {
      cachedBytes -= old.bytes;
      cache.delete(file);
    }
  }

  function typeOf(file: string): string {
    return mime.contentType(file.slice(file.lastIndexOf('/') + 1)) || 'application/octet-stream';
  }

  /** The form as it is; `compressible` adds `Vary` (the answer depends on Accept-Encoding). */
  function identityForm(file: string, st: fs.Stats, type: string, compressible: boolean, data?: Buffer): Form {
    const etag = etagOf(st);
    const headers: Record<string, string> = { 'content-type': type, etag, 'last-modified': st.mtime.toUTCString(), 'cache-control': cacheControl, 'accept-ranges': 'bytes', [NOSNIFF_NAME]: NOSNIFF_VALUE };
    if (compressible) headers.vary = 'Accept-Encoding';
    return withFlat({ etag, headers, coding: undefined, data, path: file, size: st.size, flat: undefined });
  }

  /** A coded form of `base`: its headers with the coding's ETag and `Content-Encoding` (ranges are for the form as it is only). */
  function codedForm(base: Form, coding: Coding, etag: string, data: Buffer | undefined, path: string, size: number | undefined): Form {
    const headers: Record<string, string> = { ...base.headers, etag, 'content-encoding': coding };
    delete headers['accept-ranges'];
    return withFlat({ etag, headers, coding, data, path, size, flat: undefined });
  }

  /** The coded form that a precompressed sibling is (its own ETag, from its size and time). */
  function siblingForm(base: Form, coding: Coding, sib: { path: string; st: fs.Stats }, data: Buffer | undefined): Form {
    return codedForm(base, coding, codedEtag(etagOf(sib.st), coding), data, sib.path, sib.st.size);
  }

  /** A precompressed sibling (`file.br`, `file.gz`, `file.zst`): a regular file (not a link) no older than the file. */
  function siblingOf(file: string, st: fs.Stats, coding: Coding): { path: string; st: fs.Stats } | undefined {
    const path = file + SIBLING_SUFFIX[coding];
    let sib: fs.Stats | undefined;
    try {
      sib = fs.lstatSync(path, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    return sib?.isFile() && sib.mtimeMs >= st.mtimeMs ? { path, st: sib } : undefined;
  }

  /** Whether a file's answer may be compressed: a compressible type, 1 KiB or more, compression on. */
  function compressibleFile(st: fs.Stats, type: string): boolean {
    return options.compression && st.size >= MIN_COMPRESS && isCompressible(type);
  }

  function lookup(file: string, st: fs.Stats): Cached | undefined {
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    if (hit) forget(file);
    if (st.size > CACHE_MAX_FILE) return undefined;
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      return undefined;
    }
    if (data.length !== st.size) return undefined; // changed while reading: serve from disk this time
    const type = typeOf(file);
    const compressible = compressibleFile(st, type);
    const entry: Cached = { mtimeMs: st.mtimeMs, size: st.size, compressible, identity: identityForm(file, st, type, compressible, data), coded: new Map(), bytes: st.size };
    while (cachedBytes + entry.size > CACHE_MAX_TOTAL && cache.size) forget(cache.keys().next().value!);
    cache.set(file, entry);
    cachedBytes += entry.size;
    return entry;
  }

  /** Makes a file's form in `coding` once (its sibling's bytes, or compressed off the main thread with the best settings) and keeps it. */
  function makeCoded(file: string, st: fs.Stats, entry: Cached, coding: Coding): Promise<Form> {
    const making = (async (): Promise<Form> => {
      const sib = siblingOf(file, st, coding);
      let form: Form;
      if (sib && sib.st.size <= CACHE_MAX_FILE) {
        form = siblingForm(entry.identity, coding, sib, await fs.promises.readFile(sib.path));
      } else {
        const data = await compressAsync(entry.identity.data!, coding);
        // Not smaller: the file goes as it is to clients that take this coding.
        form = data.length < entry.size ? codedForm(entry.identity, coding, codedEtag(entry.identity.etag, coding), data, file, data.length) : entry.identity;
      }
      if (cache.get(file) === entry) {
        entry.coded.set(coding, form);
        if (form !== entry.identity) {
          entry.bytes += form.data!.length;
          cachedBytes += form.data!.length;
        }
      }
      return form;
    })().catch(() => {
      entry.coded.delete(coding);
      return entry.identity;
    });
    entry.coded.set(coding, making);
    return making;
  }

  function serveStatic(req: Req, res: Res, file: string, st: fs.Stats): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(req, res, 405, `Method ${req.method} is not allowed on a static file`, { headers: { allow: 'GET, HEAD' } });
      return;
    }
    const h = req.headers;
    // Each name read once: on Bun and Deno a read is a lookup in the request's web Headers.
    const range = h.range;
    const entry = lookup(file, st);
    if (entry) {
      // A Range is served from the file as it is (never compressed).
      const coding = entry.compressible && range === undefined ? chooseCoding(h['accept-encoding']) : undefined;
      const form = coding ? (entry.coded.get(coding) ?? makeCoded(file, st, entry, coding)) : entry.identity;
      if (form instanceof Promise) {
        void form.then((f) => {
          if (!res.destroyed && !res.headersSent) answer(req, res, f, st);
        });
        return;
      }
      if (h['if-none-match'] === undefined && h['if-modified-since'] === undefined && h['if-match'] === undefined && h['if-unmodified-since'] === undefined && range === undefined) {
        // The common case: a plain GET of a file in memory.
        res.writeHead(200, form.flat!);
        res.end(req.method === 'HEAD' ? undefined : form.data);
        return;
      }
      answer(req, res, form, st);
      return;
    }
    // A large file, read from disk as it is sent.
    const type = typeOf(file);
    const compressible = compressibleFile(st, type);
    const coding = compressible && range === undefined ? chooseCoding(h['accept-encoding']) : undefined;
    const identity = identityForm(file, st, type, compressible);
    let form = identity;
    if (coding) {
      const sib = siblingOf(file, st, coding);
      form = sib ? siblingForm(identity, coding, sib, undefined) : codedForm(identity, coding, codedEtag(identity.etag, coding), undefined, file, undefined);
    }
    answer(req, res, form, st);
  }

  return { serveStatic, forget };
}

/** Strong (nginx's): size and modification time; a file edited keeps neither, and a form in a coding adds its name. */
function etagOf(st: fs.Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

function withFlat(form: Form): Form {
  if (form.data) form.flat = [...Object.entries(form.headers).flat(), 'content-length', String(form.data.length)];
  return form;
}

/** Answers with `form` after the preconditions and the range. */
function answer(req: Req, res: Res, form: Form, st: fs.Stats): void {
  const verdict = preconditions(req, form.etag, st.mtime);
  if (verdict === 412) {
    sendError(req, res, 412, 'Precondition failed: the file does not match If-Match or If-Unmodified-Since', { headers: { etag: form.etag } });
    return;
  }
  for (const k in form.headers) res.setHeader(k, form.headers[k]!);
  if (verdict === 304) {
    // A 304 carries the validators and caching headers of the 200, not its representation's (RFC 9110 §15.4.5).
    res.removeHeader('content-type');
    res.removeHeader('content-encoding');
    res.removeHeader('accept-ranges');
    res.statusCode = 304;
    res.end();
    return;
  }
  const size = form.size;
  const range = form.coding === undefined && size !== undefined ? parseRange(req, size, form.etag, form.headers['last-modified']!) : undefined;
  if (range === 'unsatisfiable') {
    res.removeHeader('content-type');
    sendError(req, res, 416, 'Range not satisfiable', { headers: { 'content-range': `bytes */${size}` } });
    return;
  }
  let start = 0;
  let end = size === undefined ? undefined : size - 1;
  if (range) {
    [start, end] = range;
    res.statusCode = 206;
    res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
  }
  const length = end === undefined ? undefined : Math.max(0, end - start + 1);
  if (length !== undefined) res.setHeader('content-length', length);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
  } else if (form.data) {
    res.end(range ? form.data.subarray(start, end! + 1) : form.data);
  } else if (end === undefined || !res.sendFile?.(form.path, start, end)) {
    streamFile(req, res, form, start, end);
  }
}

/**
 * Streams a file (compressing it on the way when its form is coded). The file
 * is opened only once the response can be written: a pipelined request waits
 * behind the one before it, and if the connection goes first, its file is
 * never opened. Once open, it is closed when the response ends, fails, or its
 * connection goes away.
 */
function streamFile(req: Req, res: Res, form: Form, start: number, end: number | undefined): void {
  const open = (): void => {
    if (res.destroyed || req.socket?.destroyed) return;
    const file = fs.createReadStream(form.path, { start, end });
    const streams: (Readable | NodeJS.ReadWriteStream)[] = [file];
    // A coded form of unknown size is compressed as it goes (a sibling is already coded).
    if (form.coding && form.size === undefined) streams.push(compressStream(form.coding));
    const last = streams[streams.length - 1] as Readable;
    last.on('data', (chunk: Buffer) => countSent(res, chunk.length));
    const stop = (): void => {
      for (const s of streams) (s as Readable).destroy();
    };
    whenGone(req, res, stop);
    // An error reading or compressing cuts the connection (the head is already out).
    pipeline([...streams, res] as unknown as [Readable, NodeJS.WritableStream], () => {});
  };
  if (res.socket) open();
  else res.once('socket', open);
}

/** Calls `fn` once when the response is over: finished or closed, or its connection closed. */
function whenGone(req: Req, res: Res, fn: () => void): void {
  const socket = req.socket;
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    res.off('close', once);
    socket?.off('close', once);
    fn();
  };
  res.once('close', once);
  if (socket) socket.once('close', once);
}

/** RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since (412); If-None-Match, else If-Modified-Since (304). */
function preconditions(req: Req, etag: string, mtime: Date): 200 | 304 | 412 {
  const h = req.headers;
  // Last-Modified has whole seconds: compare at that precision.
  const modified = Math.floor(mtime.getTime() / 1000) * 1000;
  if (h['if-match'] !== undefined) {
    if (!tagListMatches(h['if-match'], etag, true)) return 412;
  } else if (h['if-unmodified-since'] !== undefined) {
    const since = Date.parse(h['if-unmodified-since']);
    if (!Number.isNaN(since) && modified > since) return 412;
  }
  if (h['if-none-match'] !== undefined) {
    // For GET and HEAD (the only methods here), a match is a 304.
    if (tagListMatches(h['if-none-match'], etag, false)) return 304;
  } else if (h['if-modified-since'] !== undefined) {
    const since = Date.parse(h['if-modified-since']);
    if (!Number.isNaN(since) && modified <= since) return 304;
  }
  return 200;
}

/** Whether a list of entity tags (or `*`) matches `etag`: strong comparison (If-Match, If-Range) or weak (If-None-Match), RFC 9110 §8.8.3.2. */
function tagListMatches(list: string, etag: string, strong: boolean): boolean {
  if (list.trim() === '*') return true;
  // Ours is strong (etagOf); a client's weak tag matches only in the weak comparison.
  for (const m of list.matchAll(/(W\/)?"[^"]*"/g)) {
    if (strong && m[1]) continue;
    if ((m[1] ? m[0].slice(2) : m[0]) === etag) return true;
  }
  return false;
}

/** One byte range (`bytes=a-b`, `a-`, `-n`) if If-Range (when sent) holds; several ranges are answered with the whole file. */
function parseRange(req: Req, size: number, etag: string, lastModified: string): [number, number] | 'unsatisfiable' | undefined {
  const header = req.headers.range;
  if (!header || !header.startsWith('bytes=') || req.method !== 'GET') return undefined;
  const ifRange = req.headers['if-range'] as string | undefined;
  if (ifRange !== undefined) {
    // An entity tag must match strongly (a weak one never does); a date must be the Last-Modified exactly (§13.1.5).
    const holds = /^\s*(W\/)?"/.test(ifRange) ? tagListMatches(ifRange.trim(), etag, true) && !ifRange.includes(',') : ifRange.trim() === lastModified;
    if (!holds) return undefined;
  }
  const spec = header.slice(6).trim();
  if (spec.includes(',')) return undefined;
  const m = /^(\d*)-(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}
