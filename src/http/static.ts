/** Serves a static file: content type, ETag/Last-Modified with 304, HEAD, byte ranges (SPEC §2). */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import mime from 'mime-types';
import { sendError } from './respond.js';

/** Files up to this size are kept in memory (revalidated by size and mtime on each request). */
const CACHE_MAX_FILE = 256 * 1024;
const CACHE_MAX_TOTAL = 32 * 1024 * 1024;

interface Cached {
  mtimeMs: number;
  size: number;
  data: Buffer;
  headers: Record<string, string>;
  /** The headers of a plain 200, ready for writeHead (name, value, name, value …). */
  flat: string[];
}

/** Creates the static-file responder; its small in-memory cache is bounded. */
export function createStaticServer(): {
  serveStatic(req: IncomingMessage, res: ServerResponse, file: string, st: fs.Stats): void;
  forget(file: string): void;
} {
  const cache = new Map<string, Cached>();
  let cachedBytes = 0;

  function forget(file: string): void {
    const old = cache.get(file);
    if (old) {
      cachedBytes -= old.size;
      cache.delete(file);
    }
  }

  function headersFor(file: string, st: fs.Stats): Record<string, string> {
    const type = mime.contentType(file.slice(file.lastIndexOf('/') + 1)) || 'application/octet-stream';
    return {
      'content-type': type,
      etag: `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      'last-modified': st.mtime.toUTCString(),
      'accept-ranges': 'bytes',
    };
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
    const headers = headersFor(file, st);
    const flat = [...Object.entries(headers).flat(), 'content-length', String(st.size)];
    const entry = { mtimeMs: st.mtimeMs, size: st.size, data, headers, flat };
    while (cachedBytes + entry.size > CACHE_MAX_TOTAL && cache.size) forget(cache.keys().next().value!);
    cache.set(file, entry);
    cachedBytes += entry.size;
    return entry;
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse, file: string, st: fs.Stats): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(req, res, 405, `Method ${req.method} is not allowed on a static file`, { headers: { allow: 'GET, HEAD' } });
      return;
    }
    const entry = lookup(file, st);
    const h = req.headers;
    if (entry && h['if-none-match'] === undefined && h['if-modified-since'] === undefined && h.range === undefined) {
      // The common case: a plain GET of a cached file.
      res.writeHead(200, entry.flat);
      res.end(req.method === 'HEAD' ? undefined : entry.data);
      return;
    }
    const headers = entry?.headers ?? headersFor(file, st);
    for (const k in headers) res.setHeader(k, headers[k]!);
    if (isFresh(req, headers)) {
      res.statusCode = 304;
      res.removeHeader('content-type');
      res.end();
      return;
    }
    const range = parseRange(req, st.size, headers);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${st.size}` });
      res.end();
      return;
    }
    const [start, end] = range ?? [0, st.size - 1];
    const length = st.size === 0 ? 0 : end - start + 1;
    if (range) {
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${end}/${st.size}`);
    }
    res.setHeader('content-length', length);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
    } else if (entry) {
      res.end(range ? entry.data.subarray(start, end + 1) : entry.data);
    } else {
      const stream = fs.createReadStream(file, { start, end });
      stream.on('error', () => res.destroy());
      // A client that goes away must not leave the file open.
      res.once('close', () => stream.destroy());
      stream.pipe(res);
    }
  }

  return { serveStatic, forget };
}

function isFresh(req: IncomingMessage, headers: Record<string, string>): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    const etag = headers.etag!;
    const bare = etag.slice(2);
    return inm.split(',').some((t) => {
      const tag = t.trim();
      return tag === '*' || tag === etag || tag === bare || tag.replace(/^W\//, '') === bare;
    });
  }
  const ims = req.headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Date.parse(headers['last-modified']!) <= since;
  }
  return false;
}

/** One byte range (`bytes=a-b`, `a-`, `-n`); several ranges are answered with the whole file. */
function parseRange(req: IncomingMessage, size: number, headers: Record<string, string>): [number, number] | 'unsatisfiable' | undefined {
  const header = req.headers.range;
  if (!header || !header.startsWith('bytes=')) return undefined;
  const ifRange = req.headers['if-range'];
  if (ifRange && ifRange !== headers.etag && ifRange !== headers['last-modified']) return undefined;
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
