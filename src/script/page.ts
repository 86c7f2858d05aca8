/** Runs a page script for one request and turns what it did into a response (SPEC §3). */
import type { Req, Res } from '../exchange.js';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isRaw } from '../html.js';
import { createScope, renderValue } from './scope.js';
import type { PageContext } from './context.js';
import { HttpError, Redirection, ScriptEnd } from './signals.js';
import type { LinkedPage } from './modules.js';
import { errorAnswer, errorFormat, type ErrorFormat } from './errors.js';
import { runInRequest } from './request-names.js';
import { fieldsOf } from './query.js';
import { compressBody, MIN_COMPRESS, NOSNIFF_NAME, NOSNIFF_VALUE } from '../encoding.js';
import { countSent } from '../log.js';

/** What a page run produced, before it is written. */
export interface PageResult {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array | Response;
}

const HTML = 'text/html; charset=utf-8';

/** Joins the output buffer, waiting for unawaited Includes first (a page's, or an included script's). */
export async function collectOutput(ctx: PageContext): Promise<string> {
  while (ctx.pending?.length) await Promise.all(ctx.pending.splice(0));
  return joinOutput(ctx);
}

function joinOutput(ctx: PageContext): string {
  let body = '';
  for (const chunk of ctx.out) body += typeof chunk === 'string' ? chunk : chunk.text;
  return body;
}

/**
 * Runs `page` in `ctx`; script errors propagate, stop signals become results.
 * A page without top-level await or pending work gives its result at once (no promise).
 */
export function runPage(page: LinkedPage, ctx: PageContext): PageResult | Promise<PageResult> {
  const scope = createScope(ctx);
  // Modules that use the request's names read them from the request storage (request-names.ts).
  if (page.requestNames) return runInRequest(scope, () => runScoped(page, ctx, scope));
  return runScoped(page, ctx, scope);
}

function runScoped(page: LinkedPage, ctx: PageContext, scope: Record<string, unknown>): PageResult | Promise<PageResult> {
  if (page.services.size) return runService(page, ctx, scope);
  let ran: ReturnType<LinkedPage['run']>;
  try {
    ran = page.run(scope);
  } catch (err) {
    return fromSignal(err, ctx);
  }
  if (ran instanceof Promise || ctx.pending?.length) return finish(ran, ctx);
  return { status: ctx.status, headers: withType(ctx, HTML), body: joinOutput(ctx) };
}

/** The end of a page that awaits, or that left work pending (Includes, an async Authentication). */
async function finish(ran: ReturnType<LinkedPage['run']>, ctx: PageContext): Promise<PageResult> {
  try {
    await ran;
    return { status: ctx.status, headers: withType(ctx, HTML), body: await collectOutput(ctx) };
  } catch (err) {
    return fromSignal(err, ctx);
  }
}

/** `/script/NAME`: the top-level code, then the exported function NAME(fields). */
async function runService(page: LinkedPage, ctx: PageContext, scope: Record<string, unknown>): Promise<PageResult> {
  const service = ctx.args[0] || 'index';
  ctx.service = service;
  if (!ctx.args.length && (ctx.req.method === 'GET' || ctx.req.method === 'HEAD')) {
    const q = ctx.url.indexOf('?');
    const base = ctx.scriptUrl.endsWith('/') ? ctx.scriptUrl : ctx.scriptUrl + '/';
    return redirect(ctx, base + 'index' + (q >= 0 ? ctx.url.slice(q) : ''), 302);
  }
  if (service[0] === '_' || !page.services.has(service)) {
    throw new HttpError(404, `${ctx.scriptUrl} has no service named ${JSON.stringify(service)}`);
  }
  ctx.args = ctx.args.slice(1);
  try {
    const exports = await page.run(scope);
    const fn = exports?.[service];
    if (typeof fn !== 'function') throw new HttpError(404, `${ctx.scriptUrl}/${service} is not a function`);
    const value: unknown = await (fn as (fields: unknown) => unknown)(fieldsOf(ctx));
    if (value !== undefined) return await fromReturnValue(ctx, value);
    return { status: ctx.status, headers: withType(ctx, HTML), body: await collectOutput(ctx) };
  } catch (err) {
    return fromSignal(err, ctx);
  }
}

/** A stop signal becomes its result; anything else is a script error and propagates. */
function fromSignal(err: unknown, ctx: PageContext): PageResult | Promise<PageResult> {
  if (err instanceof Redirection) return redirect(ctx, err.location, err.status);
  if (err instanceof HttpError) return errorResult(ctx, err);
  // SCRIPT_END: what was printed so far (and the Includes it started).
  if (err instanceof ScriptEnd) return collectOutput(ctx).then((body) => ({ status: ctx.status, headers: withType(ctx, HTML), body }));
  throw err;
}

function withType(ctx: PageContext, type: string): Record<string, string> {
  const headers = ctx.headers;
  if (headers['content-type'] === undefined) headers['content-type'] = type;
  return headers;
}

function redirect(ctx: PageContext, location: string, status: number): PageResult {
  ctx.headers['location'] = location;
  return { status, headers: withType(ctx, 'text/plain; charset=utf-8'), body: '' };
}

/** HTTP_ERROR: the one error format (errorAnswer), JSON for a service called by a client that does not take HTML. */
function errorResult(ctx: PageContext, err: HttpError): PageResult {
  for (const k in err.headers) ctx.headers[k] = err.headers[k]!;
  const { type, body } = errorAnswer(err.status, err.message, errorFormatOf(ctx));
  const headers = ctx.headers;
  headers['content-type'] = type;
  return { status: err.status, headers, body };
}

/** The format of this request's error answers (errorFormat): JSON for a service called by `fetch()`. */
export function errorFormatOf(ctx: PageContext): ErrorFormat {
  return errorFormat(ctx.req.headers.accept, ctx.service !== undefined);
}

async function fromReturnValue(ctx: PageContext, value: unknown): Promise<PageResult> {
  if (typeof value === 'string' || isRaw(value)) {
    return { status: ctx.status, headers: withType(ctx, HTML), body: (await collectOutput(ctx)) + renderValue(value) };
  }
  if (value instanceof Response) return { status: value.status, headers: ctx.headers, body: value };
  if (value instanceof Uint8Array) return { status: ctx.status, headers: withType(ctx, 'application/octet-stream'), body: value };
  if (value instanceof ArrayBuffer) return { status: ctx.status, headers: withType(ctx, 'application/octet-stream'), body: new Uint8Array(value) };
  return { status: ctx.status, headers: withType(ctx, 'application/json; charset=utf-8'), body: JSON.stringify(value) ?? 'null' };
}

/**
 * Writes a result, with the cookies the script set (a promise only for a streamed
 * web Response). `compressFor` is the request when compression is on: a
 * compressible body of 1 KiB or more goes out compressed (encoding.ts); a
 * smaller one pays one comparison (its headers are not even parsed: Node builds
 * `req.headers` on first use).
 */
export function sendResult(res: Res, result: PageResult, cookies: string[], head: boolean, compressFor?: Req): Promise<void> | undefined {
  let body = result.body;
  if (body instanceof Response) {
    if (cookies.length) res.setHeader('set-cookie', cookies);
    return sendResponse(res, body, result, cookies, head);
  }
  // One writeHead with a plain object: Node's fast path (no per-header setHeader
  // bookkeeping); names and values are still validated as the head is built.
  // The result's headers are this request's own and are finished here; those of
  // RESPONSE.headers (a proxy without prototype) are copied into a plain object.
  const own = result.headers as Record<string, string | number | string[]>;
  const headers = Object.getPrototypeOf(own) === null ? { ...own } : own;
  // The cookies the script set (SET_COOKIE, Session()); a Set-Cookie of RESPONSE.headers is kept as it is.
  if (cookies.length && headers['set-cookie'] === undefined) headers['set-cookie'] = cookies.length === 1 ? cookies[0]! : cookies;
  headers[NOSNIFF_NAME] = NOSNIFF_VALUE;
  // A web Response (Bun, Deno) counts a whole body itself (a HEAD answer has none to count).
  const setLength = !res.setsLength || head;
  // A string of fewer than MIN_COMPRESS / 3 UTF-16 units cannot reach MIN_COMPRESS bytes (3 at most each):
  // then a native runtime's page is not even measured.
  const mayCompress = compressFor !== undefined && (typeof body !== 'string' || body.length * 3 >= MIN_COMPRESS);
  if (setLength || mayCompress) {
    let length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (mayCompress && length >= MIN_COMPRESS) {
      const coded = compressBody(body, length, result.status, headers, compressFor.headers['accept-encoding'] ?? '');
      if (coded) {
        body = coded;
        length = coded.byteLength;
      }
    }
    if (setLength) headers['content-length'] = length;
  }
  res.writeHead(result.status, headers);
  res.end(head ? undefined : body);
  return undefined;
}

async function sendResponse(res: Res, body: Response, result: PageResult, cookies: string[], head: boolean): Promise<void> {
  res.statusCode = body.status;
  for (const [k, v] of Object.entries(result.headers)) res.setHeader(k, v);
  res.setHeader(NOSNIFF_NAME, NOSNIFF_VALUE);
  body.headers.forEach((v, k) => {
    if (k !== 'set-cookie') res.setHeader(k, v);
  });
  const extra = body.headers.getSetCookie();
  if (extra.length) res.setHeader('set-cookie', [...cookies, ...extra]);
  if (!body.body || head) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    Readable.fromWeb(body.body as unknown as WebReadableStream)
      .on('error', () => res.destroy())
      .on('data', (chunk: Uint8Array) => countSent(res, chunk.byteLength))
      .pipe(res)
      .on('finish', resolve)
      .on('close', resolve);
  });
}
