/**
 * The request and response the pipeline works with: the part of node:http's
 * `IncomingMessage` and `ServerResponse` it actually uses, and nothing more.
 * On Node the pipeline is handed node:http's own objects (they satisfy these
 * types as they are: no wrapper, no cost); on Bun and Deno, http/native.ts
 * builds small objects of this shape from the runtime's web `Request` and
 * turns what is written to them into a web `Response`; an HTTP/2 stream gets
 * http/h2.ts's, over the stream itself. A part of the pipeline
 * that needs more of node:http must add it here first, so that the native
 * adapter learns it too (the type checker then says so). Types only; a leaf.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';

/** What the pipeline asks of a request's connection. */
export interface ReqSocket {
  remoteAddress?: string | undefined;
  readonly destroyed: boolean;
  /** Streams that must not be delayed or timed out (the live-reload event stream). */
  setNoDelay(noDelay?: boolean): unknown;
  setTimeout(ms: number): unknown;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A request: its head, and its body as a Node readable (read only for forms and uploads). */
export interface Req {
  method?: string | undefined;
  /** The request target: path and query (an absolute-form target as sent). */
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  httpVersion: string;
  httpVersionMajor: number;
  /** The body was read to its end (or there was none): the connection may be reused after an error answer. */
  complete: boolean;
  socket: ReqSocket;
  on(event: string, listener: Listener): this;
  off(event: string, listener: Listener): this;
  pause(): this;
  pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean | undefined }): T;
  unpipe(destination?: NodeJS.WritableStream): this;
  /** Node's own request and response, where this is an adapter over them (HTTP/2 streams: http/h2.ts); made on first call. */
  nodeObjects?(): { req: unknown; res: unknown };
  /**
   * An answer goes out before the body was read to its end: read and drop the
   * rest for at most `maxMs`, so that the connection's close does not reset it
   * under the client's feet (http/respond.ts's lingering close; Bun's and Deno's
   * adapter). Node's own requests have none: respond.ts lingers on their socket.
   */
  linger?(maxMs: number): void;
}

/** A response: a head written once, then a body in one `end()` or streamed (a file piped into it, an event stream). */
export interface Res extends NodeJS.WritableStream {
  statusCode: number;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  /** Set once the response can be written (a pipelined HTTP/1.1 request waits behind the one before it). */
  readonly socket: unknown;
  /** Content-Length comes from the whole body given to `end()` (a web Response's): the pipeline need not set it. */
  readonly setsLength?: boolean;
  setHeader(name: string, value: number | string | readonly string[]): this;
  getHeader(name: string): number | string | string[] | undefined;
  getHeaderNames(): string[];
  removeHeader(name: string): void;
  writeHead(status: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  end(cb?: () => void): this;
  /** `end(undefined)`: a head only (HEAD, 304). */
  end(chunk: string | Uint8Array | undefined, cb?: () => void): this;
  end(str: string, encoding?: BufferEncoding, cb?: () => void): this;
  /**
   * Ends the response with bytes `start`…`end` (inclusive) of the file at `path`,
   * sent by the runtime itself, where it has a way to (Bun: a `Bun.file` slice,
   * which keeps its Content-Length: Bun.serve sends a streamed body chunked
   * whatever Content-Length says). False, and nothing done, elsewhere.
   */
  sendFile?(path: string, start: number, end: number): boolean;
  destroy(error?: Error): this;
}
