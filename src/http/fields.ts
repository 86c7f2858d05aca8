/** QUERY: the request's fields from the query string and the body (SPEC §4). */
import type { Req } from '../exchange.js';
import busboy from 'busboy';
import type { Fields } from '../script/context.js';
import { HttpError } from '../script/signals.js';
import { addField } from '../script/query.js';


export interface BodyLimits {
  bodyLimit: number;
  uploadLimit: number;
  /** Fields of a url-encoded body, top-level keys of a JSON body, non-file parts of a multipart body. */
  maxFields: number;
  /** Parts of a multipart body, files and fields together. */
  maxParts: number;
  /** Bytes (UTF-8) of a field name. */
  maxFieldName: number;
}

/** Reads the request body into `fields` (body fields win over query fields). */
export async function readBodyFields(req: Req, fields: Fields, limits: BodyLimits): Promise<void> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const mime = type.split(';', 1)[0]!.trim();
  if (mime === 'multipart/form-data') return readMultipart(req, fields, limits);
  if (!hasBody(req)) return;
  if (mime === 'application/x-www-form-urlencoded') {
    parseUrlEncoded(await readBody(req, limits.bodyLimit), fields, limits);
  } else if (mime === 'application/json' || mime.endsWith('+json')) {
    const text = (await readBody(req, limits.bodyLimit)).toString('utf8');
    if (text.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `Malformed JSON body: ${(err as Error).message}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new HttpError(400, 'Malformed JSON body: expected a JSON object');
    }
    const entries = Object.entries(data);
    if (entries.length > limits.maxFields) throw tooManyFields(limits.maxFields);
    for (const [k, v] of entries) {
      checkFieldName(k, limits.maxFieldName);
      fields[k] = v;
    }
  }
  // Other content types are left unread for the script (REQUEST_HANDLER.req).
}

/**
 * An url-encoded body into `fields`. The fields are counted first, on the
 * bytes, with `indexOf` (native): a body of a million tiny fields is refused
 * after the first `maxFields + 1` separators instead of being parsed into a
 * million pairs while every other client waits. What is parsed is then at
 * most `maxFields` pairs.
 */
function parseUrlEncoded(body: Buffer, fields: Fields, limits: Pick<BodyLimits, 'maxFields' | 'maxFieldName'>): void {
  let count = 0;
  for (let start = 0; start < body.length; ) {
    let end = body.indexOf(0x26 /* & */, start);
    if (end < 0) end = body.length;
    // `a=1&&b=2`: an empty pair is no field (URLSearchParams skips it too).
    if (end > start && ++count > limits.maxFields) throw tooManyFields(limits.maxFields);
    start = end + 1;
  }
  if (count === 0) return;
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) {
    checkFieldName(k, limits.maxFieldName);
    addField(fields, k, v);
  }
}

/** 413: more fields than --max-fields. */
function tooManyFields(max: number): HttpError {
  return new HttpError(413, `Too many fields in the request body (more than ${max}; see --max-fields)`, { connection: 'close' });
}

/** 413 for a field name longer than `max` bytes (UTF-8). */
function checkFieldName(name: string, max: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most names need no byte count.
  if (name.length > max || (name.length * 3 > max && Buffer.byteLength(name) > max)) {
    throw new HttpError(413, `A field name is longer than ${max} bytes (see --max-field-name)`, { connection: 'close' });
  }
}

function hasBody(req: Req): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  // HTTP/2 needs no length: a body follows unless the request's HEADERS frame ended the stream.
  if (req.httpVersionMajor >= 2) return (req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === false;
  return req.headers['transfer-encoding'] !== undefined;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body larger than the limit of ${limit} bytes`, { connection: 'close' });
}

/** Buffers a body, failing with 413 as soon as it passes `limit` (never buffering more). */
export function readBody(req: Req, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new HttpError(400, `Request body could not be read: ${err.message}`));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function readMultipart(req: Req, fields: Fields, limits: BodyLimits): Promise<void> {
  const limit = limits.uploadLimit;
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // busboy counts the parts and fields and says when a limit is reached: we stop reading there (413).
      // It says 'partsLimit' when the last allowed part ends (more may not follow), 'fieldsLimit' when one more field begins: hence the + 1.
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fileSize: limit, fieldSize: limit, parts: limits.maxParts + 1, fields: limits.maxFields },
      });
    } catch (err) {
      reject(new HttpError(400, `Malformed multipart body: ${(err as Error).message}`));
      return;
    }
    let total = 0;
    let failed = false;
    const fail = (err: HttpError): void => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.off('data', count);
      req.pause();
      reject(err);
    };
    const count = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) fail(tooLarge(limit));
    };
    req.on('data', count);
    parser.on('partsLimit', () => fail(new HttpError(413, `Too many parts in the multipart body (more than ${limits.maxParts}; see --max-parts)`, { connection: 'close' })));
    parser.on('fieldsLimit', () => fail(tooManyFields(limits.maxFields)));
    /** False (and the request failed) when a part's name is over --max-field-name. */
    const nameFits = (name: string): boolean => {
      try {
        checkFieldName(name, limits.maxFieldName);
        return true;
      } catch (err) {
        fail(err as HttpError);
        return false;
      }
    };
    // A part without a name has nowhere to go: it is skipped.
    parser.on('field', (name, value) => {
      if (name && !failed && nameFits(name)) addField(fields, name, value);
    });
    parser.on('file', (name, stream, info) => {
      stream.on('error', (err: Error) => fail(new HttpError(400, `Malformed multipart body: ${err.message}`)));
      if (!name || failed || !nameFits(name)) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        chunks.push(c);
      });
      stream.on('limit', () => fail(tooLarge(limit)));
      stream.on('end', () => {
        if (failed) return;
        addField(fields, name, {
          filename: safeFilename(info.filename ?? ''),
          type: info.mimeType || 'application/octet-stream',
          size,
          data: Buffer.concat(chunks, size),
        });
      });
    });
    parser.on('error', (err: Error) => fail(new HttpError(400, `Malformed multipart body: ${err.message}`)));
    parser.on('close', () => {
      if (!failed) resolve();
    });
    req.on('error', (err) => fail(new HttpError(400, `Request body could not be read: ${err.message}`)));
    req.pipe(parser);
  });
}

/**
 * Characters a file name loses: C0 and C1 controls (U+0085 is a line break to
 * some tools, U+009B a terminal's CSI), DEL, the bidi marks, embeddings,
 * overrides and isolates (U+202E makes `gpj.exe` read as `exe.jpg`), and the
 * line and paragraph separators.
 */
const UNSAFE_IN_FILENAME = /[\0-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The last path segment of a client-sent file name, without control, bidi or line-separator characters. */
export function safeFilename(name: string): string {
  const base = (name.replace(UNSAFE_IN_FILENAME, '').split(/[\\/]/).pop() ?? '').trim();
  // Stripping may leave `.` or `..` (e.g. `.\u202e.`): names of folders, not of a file.
  return base === '.' || base === '..' ? '' : base;
}
