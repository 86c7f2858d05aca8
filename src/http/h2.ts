/**
 * HTTP/2 streams in front of the one request pipeline, without Node's
 * compatibility layer. `http2.createSecureServer(…, (req, res) => …)` builds
 * an `Http2ServerRequest` and an `Http2ServerResponse` for every stream: two
 * readable/writable objects with ten listeners on the stream, a trailers
 * round-trip and every header set one by one into a dictionary, about a fifth
 * of a small request's cost (a bare stream handler answers hello in 0.78 of
 * the compatibility handler's CPU here). The pipeline only needs exchange.ts's
 * `Req`/`Res`: this file gives it those over the `ServerHttp2Stream` itself —
 * a request whose body is the stream, a response whose head is one
 * `stream.respond()` and whose body is written to the stream, the stream's own
 * events (`drain`, `finish`, `close`) as its events (events.ts).
 *
 * HTTP/1.1 on the same port (ALPN) keeps node:http's objects; only HTTP/2
 * streams come here. A script that asks for Node's own objects
 * (`REQUEST_HANDLER.req`/`.res`, SPEC §4) gets the compatibility pair, made
 * then; from there on this response writes through it, so what the script
 * did to it and what the pipeline does add up as on HTTP/1.1.
 */
import http2 from 'node:http2';
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { Req, ReqSocket, Res } from '../exchange.js';
import { ForwardedEvents } from './events.js';
import { sendError } from './respond.js';

type Handle = (req: Req, res: Res) => void;
type HeaderValue = number | string | readonly string[];
type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

const { NGHTTP2_FLAG_END_STREAM } = http2.constants;

/**
 * Serves the HTTP/2 streams of `server` with `handle`. Call it after the
 * server's `request` listener (its HTTP/1.1 requests) is added: adding that
 * listener makes Node route streams to the compatibility layer too, and that
 * route is replaced here.
 */
export function serveStreams(server: http2.Http2SecureServer, handle: Handle, onStream: () => void): void {
  server.removeAllListeners('stream');
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    onStream();
    // Errors of a stream (a reset by the client) end it; nothing to report (as the compatibility layer does).
    stream.on('error', ignore);
    const req = new H2Req(stream, headers, flags, rawHeaders);
    const res = new H2Res(stream, req);
    req.res = res;
    // What the compatibility layer answers before its handler: CONNECT, and expectations.
    if (headers[':method'] === 'CONNECT') return sendError(req, res, 405, 'CONNECT is not served here', { headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' } });
    const expect = headers.expect;
    if (expect !== undefined) {
      if (expect !== '100-continue') return sendError(req, res, 417, `Expectation not supported: ${String(expect).slice(0, 100)}`);
      stream.additionalHeaders({ ':status': 100 });
    }
    handle(req, res);
  });
}

function ignore(): void {}

/** Node's compatibility pair for a stream, made when a script asks for it. */
interface NodePair {
  req: http2.Http2ServerRequest;
  res: http2.Http2ServerResponse;
}

const NodeRequest = http2.Http2ServerRequest as unknown as new (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, options: undefined, rawHeaders: string[]) => http2.Http2ServerRequest;
const NodeResponse = http2.Http2ServerResponse as unknown as new (stream: http2.ServerHttp2Stream) => http2.Http2ServerResponse;

/*
 * Classes, as in native.ts: objects made per request on the hot path, their
 * methods on one shared prototype.
 */

/** A `Req` over an HTTP/2 stream: its headers as Node gives them (the pseudo-headers included), its body the stream. */
class H2Req implements Req {
  readonly httpVersion = '2.0';
  readonly httpVersionMajor = 2;
  res!: H2Res;
  private sock: H2Socket | undefined;

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    public headers: IncomingHttpHeaders,
    private readonly flags: number,
    /** Names and values as received (Node's `rawHeaders`, for its compatibility request). */
    readonly rawHeaders: string[],
  ) {}

  get method(): string | undefined {
    return this.headers[':method'] as string | undefined;
  }

  get url(): string | undefined {
    return this.headers[':path'] as string | undefined;
  }

  /** No body (END_STREAM with the headers), or the body read to its end. */
  get complete(): boolean {
    return (this.flags & NGHTTP2_FLAG_END_STREAM) !== 0 || this.stream.readableEnded;
  }

  get socket(): ReqSocket {
    return (this.sock ??= new H2Socket(this.stream));
  }

  on(event: string, listener: Listener): this {
    this.stream.on(event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.stream.off(event, listener);
    return this;
  }

  pause(): this {
    this.stream.pause();
    return this;
  }

  pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean | undefined }): T {
    return this.stream.pipe(destination, options);
  }

  unpipe(destination?: NodeJS.WritableStream): this {
    this.stream.unpipe(destination);
    return this;
  }

  /** Node's own request and response (REQUEST_HANDLER.req/.res): the compatibility pair, made once. */
  nodeObjects(): NodePair {
    return this.res.nodePair();
  }
}

/** What the pipeline asks of the connection: the session's TLS socket, and the stream's close and timeout. */
class H2Socket implements ReqSocket {
  constructor(private readonly stream: http2.ServerHttp2Stream) {}
  get remoteAddress(): string | undefined {
    return this.stream.session?.socket?.remoteAddress;
  }
  get destroyed(): boolean {
    return this.stream.destroyed;
  }
  /** Always TLS here (origin.ts reads it). */
  get encrypted(): boolean {
    return true;
  }
  /** The server whose `listening` an event stream watches (live/reload.ts). */
  get server(): unknown {
    return (this.stream.session?.socket as { server?: unknown } | undefined)?.server;
  }
  /** The connection is shared by every stream of the session: one stream does not change it. */
  setNoDelay(): this {
    return this;
  }
  setTimeout(ms: number): this {
    this.stream.setTimeout(ms);
    return this;
  }
  once(event: 'close', listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }
  off(event: 'close', listener: () => void): this {
    this.stream.off(event, listener);
    return this;
  }
}

/** Header names HTTP/2 forbids (RFC 9113 §8.2.2): dropped, as the compatibility layer drops them. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);
/**
 * A `Res` over an HTTP/2 stream: headers kept until the head goes out in one
 * `respond()`, the body written to the stream, the stream's events as its own.
 */
class H2Res extends ForwardedEvents implements Res {
  private status = 200;
  private fields: Record<string, HeaderValue> | undefined;
  private node: http2.Http2ServerResponse | undefined;
  private pair: NodePair | undefined;

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    private readonly req: H2Req,
  ) {
    super();
  }

  get statusCode(): number {
    return this.node ? this.node.statusCode : this.status;
  }
  set statusCode(status: number) {
    if (this.node) this.node.statusCode = status;
    else this.status = status;
  }
  get headersSent(): boolean {
    return this.stream.headersSent;
  }
  get destroyed(): boolean {
    return this.stream.destroyed;
  }
  get writableEnded(): boolean {
    return this.stream.writableEnded;
  }
  get writableFinished(): boolean {
    return this.stream.writableFinished;
  }
  get writableNeedDrain(): boolean {
    return this.stream.writableNeedDrain;
  }
  get writable(): boolean {
    return this.stream.writable;
  }
  /** Always there: a stream can be answered at once. */
  get socket(): ReqSocket {
    return this.req.socket;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.node) this.node.setHeader(name, value as string);
    else (this.fields ??= {})[name.toLowerCase()] = value;
    return this;
  }
  getHeader(name: string): number | string | string[] | undefined {
    if (this.node) return this.node.getHeader(name);
    return this.fields?.[name.toLowerCase()] as number | string | string[] | undefined;
  }
  getHeaderNames(): string[] {
    return this.node ? this.node.getHeaderNames() : this.fields ? Object.keys(this.fields) : [];
  }
  removeHeader(name: string): void {
    if (this.node) this.node.removeHeader(name);
    else if (this.fields) delete this.fields[name.toLowerCase()];
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    if (this.node) this.node.writeHead(status, headers as OutgoingHttpHeaders);
    else this.respond(status, headers, false);
    return this;
  }

  /**
   * Sends the head: status, the headers set before and `headers`. Invalid
   * names or values throw before anything is sent, as node:http's writeHead
   * does (the pipeline's error answer then replaces this one). `last`: no body
   * follows (HEAD, 204 and 304 end the stream with the head too).
   */
  private respond(status: number, headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined, last: boolean): void {
    const stream = this.stream;
    if (stream.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP2_HEADERS_SENT' });
    if (!Number.isInteger(status) || status < 200 || status > 599) throw Object.assign(new RangeError(`Invalid status code: ${status}`), { code: 'ERR_HTTP2_STATUS_INVALID' });
    this.status = status;
    const head: Record<string, HeaderValue> = { ':status': status };
    const fields = this.fields;
    if (fields) for (const k in fields) add(head, k, fields[k]!);
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) add(head, String(headers[i]).toLowerCase(), headers[i + 1] as HeaderValue);
    } else if (headers) {
      for (const k in headers) {
        const v = headers[k];
        if (v !== undefined) add(head, k.toLowerCase(), v);
      }
    }
    if (stream.destroyed) return;
    stream.respond(head as http2.OutgoingHttpHeaders, { endStream: last || this.req.method === 'HEAD' || status === 204 || status === 304 });
  }

  write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    if (this.node) return this.node.write(chunk, encoding as BufferEncoding, cb);
    const stream = this.stream;
    if (!stream.headersSent) this.respond(this.status, undefined, false);
    if (stream.writableEnded || stream.destroyed) return false;
    return stream.write(chunk, encoding as BufferEncoding, cb);
  }

  end(chunk?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    if (this.node) {
      this.node.end(chunk as string, encoding as BufferEncoding, cb);
      return this;
    }
    if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
    else if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    const stream = this.stream;
    const empty = chunk === undefined || chunk.length === 0;
    if (!stream.headersSent && !stream.destroyed) this.respond(this.status, undefined, empty);
    // Ended already: by the head (no body: HEAD, 204, 304, an empty body), or before.
    if (stream.writableEnded || stream.destroyed) {
      if (cb) queueMicrotask(cb);
    } else if (empty) {
      stream.end(cb);
    } else if (typeof chunk === 'string') {
      stream.end(chunk, (encoding as BufferEncoding | undefined) ?? 'utf8', cb);
    } else {
      stream.end(chunk, cb);
    }
    return this;
  }

  destroy(error?: Error): this {
    this.stream.destroy(error);
    return this;
  }

  /** Node's compatibility pair, made on first use: the headers set so far move to its response, which takes over writing. */
  nodePair(): NodePair {
    if (this.pair) return this.pair;
    // A runtime whose node:http2 has no compatibility classes (Bun, Deno): the adapter is what there is.
    if (typeof NodeRequest !== 'function' || typeof NodeResponse !== 'function') return (this.pair = { req: this.req as unknown as http2.Http2ServerRequest, res: this as unknown as http2.Http2ServerResponse });
    const req = new NodeRequest(this.stream, this.req.headers as http2.IncomingHttpHeaders, undefined, this.req.rawHeaders);
    const res = new NodeResponse(this.stream);
    if (!this.stream.headersSent) {
      res.statusCode = this.status;
      for (const k in this.fields) res.setHeader(k, this.fields[k] as string);
    }
    this.node = res;
    return (this.pair = { req, res });
  }

  /** The stream's events are the response's (drain, finish, close, error). */
  protected events(): EventEmitter {
    return this.stream;
  }
}

/** One header into the head: checked by node:http's own rules (what its writeHead throws), a repeated name's values kept together. */
function add(head: Record<string, HeaderValue>, name: string, value: HeaderValue): void {
  if (CONNECTION_SPECIFIC.has(name)) return;
  validateHeaderName(name);
  if (typeof value === 'object') for (const item of value) validateHeaderValue(name, item);
  else validateHeaderValue(name, value as string);
  head[name] = value;
}
