/**
 * How a response is encoded (SPEC §10): the header every response carries, and
 * compression — which content coding a client gets, whether a type is worth
 * compressing, zlib's settings, per-coding ETags. A leaf (Node's zlib and
 * mime-db only) shared by pages (script/page.ts), static files and error
 * answers (http/), and the live-reload stream, so all follow one rule.
 */
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

/** mime-db's table, the one mime-types reads: its `compressible` flags say which types gain from compression. */
const db = createRequire(import.meta.url)('mime-db') as Record<string, { compressible?: boolean }>;

/** On every response: a browser must not guess a type other than the one we send (a text file run as a script). */
export const NOSNIFF_NAME = 'x-content-type-options';
export const NOSNIFF_VALUE = 'nosniff';

export type Coding = 'br' | 'zstd' | 'gzip';

/** Smaller bodies go out as they are: compression would not pay for its CPU and framing. */
export const MIN_COMPRESS = 1024;

/** The zstd functions, present from Node 22.15/23.8 on (typed here because @types/node 20 lacks them). */
const z = zlib as typeof zlib & {
  zstdCompressSync?: (data: zlib.InputType, options?: object) => Buffer;
  zstdCompress?: (data: zlib.InputType, options: object, cb: (err: Error | null, out: Buffer) => void) => void;
  createZstdCompress?: (options?: object) => zlib.Gzip;
  constants: typeof zlib.constants & { ZSTD_c_compressionLevel?: number };
};
export const HAS_ZSTD = typeof z.zstdCompressSync === 'function' && typeof z.createZstdCompress === 'function';

/** The codings offered, in our order of preference when the client's q-values tie (br compresses text best). */
const CODINGS: Coding[] = HAS_ZSTD ? ['br', 'zstd', 'gzip'] : ['br', 'gzip'];

/** File suffixes of precompressed siblings (`app.js.br` beside `app.js`). */
export const SIBLING_SUFFIX: Record<Coding, string> = { br: '.br', zstd: '.zst', gzip: '.gz' };

const compressibleTypes = new Map<string, boolean>();

/** True for `text/*` and the types mime-db marks compressible (JSON, JavaScript, SVG …); the parameters are ignored. */
export function isCompressible(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  let known = compressibleTypes.get(contentType);
  if (known === undefined) {
    const semi = contentType.indexOf(';');
    const type = (semi >= 0 ? contentType.slice(0, semi) : contentType).trim().toLowerCase();
    known = type.startsWith('text/') || db[type]?.compressible === true;
    // Types come from files and scripts: bounded so a script inventing types cannot grow it.
    if (compressibleTypes.size > 1000) compressibleTypes.clear();
    compressibleTypes.set(contentType, known);
  }
  return known;
}

const chosen = new Map<string, Coding | null>();

/**
 * The coding for a request's `Accept-Encoding` (RFC 9110 §12.5.3): the highest
 * q-value among the codings offered (`*` stands for those not named; `x-gzip` is
 * gzip), ties broken by our order; none when nothing is acceptable or the
 * client ranks `identity` higher.
 */
export function chooseCoding(accept: string | undefined): Coding | undefined {
  if (!accept) return undefined;
  let pick = chosen.get(accept);
  if (pick === undefined) {
    pick = parseAccept(accept);
    // Browsers send a handful of distinct values; anything else must not grow the memo.
    if (chosen.size > 200) chosen.clear();
    chosen.set(accept, pick);
  }
  return pick ?? undefined;
}

function parseAccept(accept: string): Coding | null {
  const q = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name!.trim().toLowerCase();
    if (!coding) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m) weight = Number(m[1]);
    }
    const key = coding === 'x-gzip' ? 'gzip' : coding;
    q.set(key, Math.max(q.get(key) ?? 0, weight));
  }
  const star = q.get('*');
  let best: Coding | null = null;
  let bestQ = 0;
  for (const coding of CODINGS) {
    const weight = q.get(coding) ?? star ?? 0;
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  // A coding is chosen only if the client does not prefer the body as it is.
  const identity = q.get('identity');
  if (best && identity !== undefined && identity > bestQ) return null;
  return best;
}

/** `"abc"` → `"abc-br"`, `W/"abc"` → `W/"abc-br"`: each coding of a resource has its own ETag. */
export function codedEtag(etag: string, coding: Coding): string {
  return etag.endsWith('"') ? `${etag.slice(0, -1)}-${coding}"` : etag;
}

/** Adds `Accept-Encoding` to a Vary value (a page may have set its own). */
function varyAcceptEncoding(vary: string | undefined): string {
  if (!vary) return 'Accept-Encoding';
  return /(?:^|,)\s*(?:accept-encoding|\*)\s*(?:,|$)/i.test(vary) ? vary : `${vary}, Accept-Encoding`;
}

/**
 * zlib options: `best` for a static form made once and kept, fast otherwise (a
 * page, on every request; a large file, streamed). The fast levels were measured
 * on a 10 KB HTML table: brotli 2 takes half the time of brotli 4 for a body no
 * larger, gzip 4 a third less than gzip 6 for 1 % more bytes.
 */
function zlibOptions(coding: Coding, best: boolean, size?: number): object {
  if (coding === 'br') {
    const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: best ? 11 : 2 };
    if (size !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = size;
    return { params };
  }
  if (coding === 'zstd') return { params: { [z.constants.ZSTD_c_compressionLevel ?? 100]: best ? 19 : 3 } };
  return { level: best ? 9 : 4 };
}

/** Compresses a whole body now (a page's: bodies are small, and a thread-pool round trip would cost more). */
function compressSync(data: string | Uint8Array, coding: Coding, best = false): Buffer {
  const size = typeof data === 'string' ? data.length : data.byteLength;
  if (coding === 'br') return zlib.brotliCompressSync(data, zlibOptions(coding, best, size));
  if (coding === 'zstd') return z.zstdCompressSync!(data, zlibOptions(coding, best));
  return zlib.gzipSync(data, zlibOptions(coding, best));
}

/** Compresses off the main thread (a static form, made once with the best settings). */
export function compressAsync(data: Uint8Array, coding: Coding, best = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => (err ? reject(err) : resolve(out));
    const options = zlibOptions(coding, best, data.byteLength);
    if (coding === 'br') zlib.brotliCompress(data, options, done);
    else if (coding === 'zstd') z.zstdCompress!(data, options, done);
    else zlib.gzip(data, options, done);
  });
}

/** A compressing stream with the fast settings (a file too large to keep compressed). */
export function compressStream(coding: Coding): zlib.Gzip | zlib.BrotliCompress {
  if (coding === 'br') return zlib.createBrotliCompress(zlibOptions(coding, false));
  if (coding === 'zstd') return z.createZstdCompress!(zlibOptions(coding, false));
  return zlib.createGzip(zlibOptions(coding, false));
}

/**
 * Compresses a page's body in place of sending it as is, when it should be:
 * a compressible type, at least MIN_COMPRESS bytes, a status with a body of its
 * own (not 1xx/204/206/304), not already coded, no `no-transform`. Sets `vary`
 * (whenever the answer depends on Accept-Encoding), `content-encoding` and a
 * per-coding ETag in `headers`; returns the coded body, or undefined to send it as is.
 */
export function compressBody(body: string | Uint8Array, length: number, status: number, headers: Record<string, string | number | string[]>, accept: string): Buffer | undefined {
  if (length < MIN_COMPRESS || status < 200 || status === 204 || status === 206 || status === 304) return undefined;
  if (headers['content-encoding'] !== undefined || headers['content-range'] !== undefined) return undefined;
  const type = headers['content-type'];
  if (typeof type !== 'string' || !isCompressible(type)) return undefined;
  const cc = headers['cache-control'];
  if (typeof cc === 'string' && /no-transform/i.test(cc)) return undefined;
  headers.vary = varyAcceptEncoding(headers.vary as string | undefined);
  const coding = chooseCoding(accept);
  if (!coding) return undefined;
  headers['content-encoding'] = coding;
  if (typeof headers.etag === 'string') headers.etag = codedEtag(headers.etag, coding);
  return compressSync(body, coding);
}
