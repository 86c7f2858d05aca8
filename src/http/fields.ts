/** QUERY: the request's fields from the query string and the body (SPEC §4). */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import type { Fields, UploadedFile } from '../script/context.js';
import { HttpError } from '../script/signals.js';


/** A fresh fields object; null prototype so that `__proto__` is just a name. */
export function emptyFields(): Fields {
  return Object.create(null) as Fields;
}

/** Adds one form value under the SPEC's rules: `name[]` collects, a repeated name keeps the last. */
export function addField(fields: Fields, name: string, value: string | UploadedFile): void {
  if (name.endsWith('[]') && name.length > 2) {
    const key = name.slice(0, -2);
    const list = fields[key];
    if (Array.isArray(list)) list.push(value);
    else fields[key] = [value];
  } else {
    fields[name] = value;
  }
}

/** Fields of a query string (without the `?`). */
export function parseQuery(search: string, into: Fields = emptyFields()): Fields {
  if (search) for (const [k, v] of new URLSearchParams(search)) addField(into, k, v);
  return into;
}

export interface BodyLimits {
  bodyLimit: number;
  uploadLimit: number;
}

/** Reads the request body into `fields` (body fields win over query fields). */
export async function readBodyFields(req: IncomingMessage, fields: Fields, limits: BodyLimits): Promise<void> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const mime = type.split(';', 1)[0]!.trim();
  if (mime === 'multipart/form-data') return readMultipart(req, fields, limits.uploadLimit);
  if (!hasBody(req)) return;
  if (mime === 'application/x-www-form-urlencoded') {
    parseQuery((await readBody(req, limits.bodyLimit)).toString('utf8'), fields);
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
    for (const [k, v] of Object.entries(data)) fields[k] = v;
  }
  // Other content types are left unread for the script (REQUEST_HANDLER.req).
}

function hasBody(req: IncomingMessage): boolean {
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
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
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

function readMultipart(req: IncomingMessage, fields: Fields, limit: number): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: limit, fieldSize: limit } });
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
    // A part without a name has nowhere to go: it is skipped.
    parser.on('field', (name, value) => {
      if (name) addField(fields, name, value);
    });
    parser.on('file', (name, stream, info) => {
      stream.on('error', (err: Error) => fail(new HttpError(400, `Malformed multipart body: ${err.message}`)));
      if (!name) {
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

/** The last path segment of a client-sent file name, without control characters. */
export function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  return base.replace(/[\0-\x1f\x7f]/g, '').trim();
}
