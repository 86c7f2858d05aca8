/**
 * Bun's and Deno's own HTTP servers (`Bun.serve`, `Deno.serve`) in front of the
 * one request pipeline (SPEC §11). Their `node:http` layers are emulations
 * that cost Bun 0.58 and Deno 0.37 of their native speed; the native servers
 * hand us a web `Request` and want a web `Response`. The pipeline is written
 * against exchange.ts's `Req`/`Res` (the part of node:http it uses), so this
 * adapter builds a small `Req` over the `Request` (headers made on first
 * read; the body a Node readable made only when a form or upload is read)
 * and a `Res` that collects status, headers and body into a `Response`: the
 * body given to one `end()` as it is, or a `ReadableStream` once the pipeline
 * writes in pieces (a large static file piped from disk, a compression
 * stream, the live-reload event stream), with backpressure and the client's
 * disconnection passed back as node's `drain` and `close`.
 *
 * Node never comes here: it keeps node:http's own objects (a web layer on
 * Node costs about half its throughput). srvx, h3 and Hono adapt the other
 * way (web objects on top of node:http); this one is ours and thin.
 */
import { EventEmitter } from 'node:events';
import { ForwardedEvents } from './events.js';
import { Readable } from 'node:stream';
import cluster from 'node:cluster';
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { Req, ReqSocket, Res } from '../exchange.js';
import { NOSNIFF_NAME, NOSNIFF_VALUE } from '../encoding.js';

/** What `Bun.serve` and `Deno.serve` give and take (the parts used here: no type packages needed). */
interface BunServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  requestIP(request: Request): { address: string } | null;
  timeout(request: Request, seconds: number): void;
}
interface BunApi {
  file(path: string): Blob;
  serve(options: {
    port: number;
    hostname: string;
    reusePort?: boolean;
    idleTimeout?: number;
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
    error(err: Error): Response;
  }): BunServer;
}
interface DenoServeInfo {
  remoteAddr: { hostname: string };
}
interface DenoServer {
  readonly addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
}
interface DenoApi {
  serve(
    options: { port: number; hostname: string; onListen(): void; onError(err: unknown): Response },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoServer;
}

/** The native server, as server.ts sees it. */
export interface NativeServer {
  readonly port: number;
  /** False once close() began: open event streams end then (live/reload.ts checks it). */
  readonly listening: boolean;
  /** Stops accepting; resolves once the requests under way are answered. */
  close(): Promise<void>;
  /** Cuts what is still open (after close()'s grace). */
  closeAll(): void;
}

type Handle = (req: Req, res: Res) => void;

/** What a request needs of its server: the client's address, and the idle timeout lifted (an event stream). */
interface Peer {
  listening: boolean;
  /**
   * Whether the request's signal tells of a client gone mid-response (Bun). Deno's
   * also aborts after every complete response (and warns once when it is
   * listened to); there the body stream's cancel says it.
   */
  signalsGone: boolean;
  /**
   * Whether a Response's headers are set one by one after it is made (Deno)
   * rather than given to its constructor (Bun). Deno's constructor converts a
   * headers record of more than one name at 1.6 µs (one name: 0.2), its
   * `headers.set()` costs 0.1 µs a name: for a page's three headers 0.33 µs
   * against 2.0. Bun's constructor is the faster of its two (0.38 against 0.5).
   */
  headersAfter: boolean;
  /**
   * Whether an answer must wait until the request's body is read to its end
   * (Bun): Bun closes the connection once an answer is written to a request
   * whose body is still coming, and the kernel's reset then loses the answer
   * (the client sees EPIPE). Deno keeps the connection while the body is read
   * after the answer.
   */
  answersAfterBody: boolean;
  /**
   * Whether the runtime adds `Connection: close` itself to an answer whose request
   * body was not read to its end (Deno): the pipeline's is then left out, or it
   * goes out twice.
   */
  closesItself: boolean;
  /** A body of bytes `start`…`end` of a file that the runtime sends itself with its length (Res.sendFile), where it can. */
  fileBody?(path: string, start: number, end: number): WebBody;
  remoteAddress(req: NativeReq): string | undefined;
  keepOpen(req: NativeReq): void;
}

/**
 * Starts `Bun.serve` or `Deno.serve` on port/host with `handle` as the
 * pipeline. A listen error is thrown with node's codes (EADDRINUSE …) so that
 * server.ts reports it as it does on Node.
 */
export function serveNative(runtime: 'bun' | 'deno', handle: Handle, port: number, host: string, onError: (err: unknown) => void): NativeServer {
  const fail = (err: unknown): Response => {
    onError(err);
    return new Response('Internal Server Error\n', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  };
  if (runtime === 'bun') {
    const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;
    let bun: BunServer;
    const peer: Peer = {
      listening: true,
      signalsGone: true,
      headersAfter: false,
      answersAfterBody: true,
      closesItself: false,
      fileBody: (path, start, end) => Bun.file(path).slice(start, end + 1),
      remoteAddress: (req) => bun.requestIP(req.request)?.address,
      keepOpen: (req) => bun.timeout(req.request, 0),
    };
    bun = Bun.serve({
      port,
      hostname: host,
      // Workers of --workers (node:cluster) each listen on the port: the kernel spreads the connections.
      reusePort: cluster.isWorker,
      fetch: (request) => respond(handle, new NativeReq(request, peer, undefined)),
      error: fail,
    });
    return {
      port: bun.port,
      get listening() {
        return peer.listening;
      },
      close: async () => {
        peer.listening = false;
        await bun.stop(false);
      },
      closeAll: () => void bun.stop(true),
    };
  }
  const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
  const peer: Peer = { listening: true, signalsGone: false, headersAfter: true, answersAfterBody: false, closesItself: true, remoteAddress: (req) => req.info?.remoteAddr.hostname, keepOpen: () => {} };
  const deno = Deno.serve({ port, hostname: host, onListen() {}, onError: fail }, (request, info) => respond(handle, new NativeReq(request, peer, info)));
  return {
    port: deno.addr.port,
    get listening() {
      return peer.listening;
    },
    close: () => {
      peer.listening = false;
      return deno.shutdown();
    },
    // Deno has no forced close: shutdown() already refuses new connections, the rest ends with the process.
    closeAll: () => {},
  };
}

/** Runs the pipeline; a response written at once goes back without a promise. */
function respond(handle: Handle, req: NativeReq): Response | Promise<Response> {
  const res = new NativeRes(req);
  req.res = res;
  handle(req, res);
  return res.response ?? new Promise<Response>((resolve) => (res.resolve = resolve));
}

/**
 * A request's headers as node's plain object, without copying them all: a
 * page reads one or two (the cookie, Accept-Encoding), and walking a web
 * Headers costs a sort on Deno. A name read is looked up in the Headers; the
 * object is filled in full the first time it is walked, tested with `in`,
 * changed or described (`HEADERS` in a script). One handler for every
 * request: the proxy's target holds the request's own state.
 */
interface HeadersState {
  web: Headers;
  all: Record<string, string> | undefined;
}

function filled(state: HeadersState): Record<string, string> {
  if (state.all) return state.all;
  const all: Record<string, string> = {};
  state.web.forEach((value, name) => (all[name] = value));
  return (state.all = all);
}

const LAZY_HEADERS: ProxyHandler<HeadersState> = {
  get(state, name) {
    if (state.all || typeof name !== 'string') return Reflect.get(filled(state), name);
    try {
      return state.web.get(name) ?? undefined;
    } catch {
      return undefined; // not a header name (Headers.get throws): node's object has no such key either
    }
  },
  has: (state, name) => Reflect.has(filled(state), name),
  ownKeys: (state) => Reflect.ownKeys(filled(state)),
  getOwnPropertyDescriptor: (state, name) => Reflect.getOwnPropertyDescriptor(filled(state), name),
  set: (state, name, value) => Reflect.set(filled(state), name, value),
  deleteProperty: (state, name) => Reflect.deleteProperty(filled(state), name),
  defineProperty: (state, name, desc) => Reflect.defineProperty(filled(state), name, desc),
  getPrototypeOf: () => Object.prototype,
};

function lazyHeaders(web: Headers): IncomingHttpHeaders {
  return new Proxy<HeadersState>({ web, all: undefined }, LAZY_HEADERS) as unknown as IncomingHttpHeaders;
}

/**
 * A head given as node's flat array, as web Headers (without Content-Length:
 * for a whole body the runtime sets it), made once per array. static.ts gives
 * each file's form its own array, the same on every request: Bun copies a
 * Headers into a Response natively, 0.6 µs against 1.0 for a file's eight
 * headers as an object. (Deno sets headers one by one: Peer.headersAfter.)
 */
const HEADS = new WeakMap<readonly unknown[], Headers>();
function headsOf(flat: readonly unknown[]): Headers {
  let heads = HEADS.get(flat);
  if (!heads) {
    const made = new Headers();
    sentHead(fieldsOf(flat), true, (name, value) => made.append(name, value));
    HEADS.set(flat, (heads = made));
  }
  return heads;
}

/**
 * Deno: a static file's answer (its head as node's flat array, its bytes, its
 * status), made once as a web Response and cloned for each request. Deno sets
 * a Response's headers one by one after it is made (Peer.headersAfter): a
 * file's seven cost 2.1–2.6 µs in process, a clone 0.13–0.2 µs, and Deno still
 * sends the clone's bytes as they are, with their Content-Length (under wrk,
 * user CPU a response: 4.4–5.2 µs made, 2.5–2.8 cloned, 2.8–3.3 for a bare
 * handler with one header). The template itself is never sent. On Bun a clone
 * costs what a Response with the file's cached Headers does (headsOf).
 */
const TEMPLATES = new WeakMap<readonly unknown[], { body: WebBody; status: number; response: Response }>();

/** A head given as node's flat array (name, value, name, value …), as an object of lower-case names. */
function fieldsOf(flat: readonly unknown[]): Record<string, HeaderValue> {
  const fields: Record<string, HeaderValue> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i]).toLowerCase()] = flat[i + 1] as HeaderValue;
  return fields;
}

/**
 * The part of a page's head that is the same on most responses, its type and
 * nosniff, as web Headers made once per type (Bun): a Response copies a
 * Headers natively, 0.18 µs against 0.35 for an object of the same two names;
 * the page's other fields are then set on the Response (0.05 µs each). At most
 * PAGE_TYPES types are kept: a site answers with a handful.
 */
const PAGE_HEADS = new Map<string, Headers>();
const PAGE_TYPES = 64;
function pageHeadOf(fields: Record<string, HeaderValue> | undefined): Headers | undefined {
  const type = fields?.['content-type'];
  if (typeof type !== 'string' || fields?.[NOSNIFF_NAME] !== NOSNIFF_VALUE) return undefined;
  let head = PAGE_HEADS.get(type);
  if (!head && PAGE_HEADS.size < PAGE_TYPES) PAGE_HEADS.set(type, (head = new Headers([['content-type', type], [NOSNIFF_NAME, NOSNIFF_VALUE]])));
  return head;
}

/**
 * The head as a web Response gets it, a field at a time: no Content-Length
 * for a whole body (the runtime counts it), numbers as text, each value of a
 * list (several Set-Cookie) on its own; without the page head's two fields
 * when the Response has them already (pageHeadOf).
 */
function sentHead(fields: Record<string, HeaderValue> | undefined, whole: boolean, add: (name: string, value: string) => void, withoutPageHead = false): void {
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined || (whole && k === 'content-length') || (withoutPageHead && (k === 'content-type' || k === NOSNIFF_NAME))) continue;
    if (typeof v === 'object') for (const item of v) add(k, item);
    else add(k, typeof v === 'string' ? v : String(v));
  }
}

/** Statuses whose response has no body (a web Response refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/*
 * Classes, unlike the rest of the code base: two objects per request on the hot
 * path, with their methods on one shared prototype (closures per request would
 * cost more), and node:http's own request and response are classes of this shape.
 */

/** A `Req` over a web Request. */
class NativeReq implements Req {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  res!: NativeRes;
  private heads: IncomingHttpHeaders | undefined;
  private body: Readable | undefined;
  private ended = false;
  private sock: NativeSocket | undefined;
  /** Set by `linger`: the rest of the body is read and dropped (Peer.answersAfterBody: the answer waits for it). */
  drained: Promise<void> | undefined;

  constructor(
    readonly request: Request,
    readonly peer: Peer,
    readonly info: DenoServeInfo | undefined,
  ) {
    this.method = request.method;
    // Path and query: what node's req.url holds (the web Request has the whole URL).
    const href = request.url;
    const slash = href.indexOf('/', href.indexOf('//') + 2);
    this.url = slash < 0 ? '/' : href.slice(slash);
  }

  /** Node's form (lower-case names, repeated ones joined), read on demand: see lazyHeaders. */
  get headers(): IncomingHttpHeaders {
    return (this.heads ??= lazyHeaders(this.request.headers));
  }

  set headers(value: IncomingHttpHeaders) {
    this.heads = value;
  }

  get complete(): boolean {
    return this.request.body === null || this.ended;
  }

  get socket(): ReqSocket {
    return (this.sock ??= new NativeSocket(this));
  }

  /** See Req.linger: the rest of the body is read and dropped, for at most `maxMs`. */
  linger(maxMs: number): void {
    if (this.complete || this.drained) return;
    const body = this.readable();
    this.drained = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(latest);
        resolve();
      };
      // Still coming after maxMs: the body is cancelled, and the runtime closes the connection.
      const latest = setTimeout(() => {
        body.destroy();
        done();
      }, maxMs);
      body.on('end', done).on('close', done).on('error', done);
      body.resume();
    });
  }

  /** The body as a Node readable, made on first use (most requests never read one). */
  private readable(): Readable {
    if (this.body) return this.body;
    const web = this.request.body;
    this.body = web ? Readable.fromWeb(web as import('node:stream/web').ReadableStream) : Readable.from([]);
    this.body.once('end', () => (this.ended = true));
    return this.body;
  }

  on(event: string, listener: (...args: any[]) => void): this { // eslint-disable-line @typescript-eslint/no-explicit-any
    this.readable().on(event, listener);
    return this;
  }

  off(event: string, listener: (...args: any[]) => void): this { // eslint-disable-line @typescript-eslint/no-explicit-any
    this.body?.off(event, listener);
    return this;
  }

  pause(): this {
    this.body?.pause();
    return this;
  }

  pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean | undefined }): T {
    return this.readable().pipe(destination, options);
  }

  unpipe(destination?: NodeJS.WritableStream): this {
    this.body?.unpipe(destination);
    return this;
  }
}

/** The connection, as far as the pipeline asks: the address, and `close` when the client goes. */
class NativeSocket implements ReqSocket {
  constructor(private readonly req: NativeReq) {}
  get remoteAddress(): string | undefined {
    return this.req.peer.remoteAddress(this.req);
  }
  get destroyed(): boolean {
    return this.req.res.destroyed;
  }
  /** The server whose `listening` an event stream watches (live/reload.ts). */
  get server(): { readonly listening: boolean } {
    return this.req.peer;
  }
  /** The native servers send each write at once. */
  setNoDelay(): this {
    return this;
  }
  /** 0: an event stream stays open however long it is quiet (Bun ends idle connections after 10 s). */
  setTimeout(ms: number): this {
    if (ms === 0) this.req.peer.keepOpen(this.req);
    return this;
  }
  once(event: 'close', listener: () => void): this {
    this.req.res.once(event, listener);
    return this;
  }
  off(event: 'close', listener: () => void): this {
    this.req.res.off(event, listener);
    return this;
  }
}

type HeaderValue = number | string | readonly string[];
/** What a web Response takes as its body. */
type WebBody = ConstructorParameters<typeof Response>[0];

/** A `Res` that becomes a web Response: at `end()` with its body, or at the first `write()` with a stream. */
class NativeRes extends ForwardedEvents implements Res {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writable = true;
  /** The Response, once made (taken by `respond` when the pipeline answered at once). */
  response: Response | undefined;
  /** Waiting for the Response (an answer that came later). */
  resolve: ((response: Response) => void) | undefined;
  private fields: Record<string, HeaderValue> | undefined;
  private stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  private needDrain = false;
  private emitter: EventEmitter | undefined;
  /** The head given to writeHead as node's flat array, when it is the whole head. */
  private flat: readonly unknown[] | undefined;
  /** The whole body given to end(), for getHeader('content-length'). */
  private whole: string | Uint8Array | undefined;

  constructor(private readonly req: NativeReq) {
    super();
  }

  /** Made for the first listener (events.ts): a page answered at once has none. */
  protected events(create: boolean): EventEmitter | undefined {
    return create ? (this.emitter ??= new EventEmitter()) : this.emitter;
  }

  get socket(): ReqSocket {
    return this.req.socket;
  }

  /** A web Response counts its whole body itself (page.ts then sets no Content-Length). */
  get setsLength(): boolean {
    return true;
  }

  /**
   * The head as an object. A head given to writeHead as a flat array (a static
   * file's) is kept as it is and made an object only if something asks.
   */
  private own(): Record<string, HeaderValue> | undefined {
    if (this.fields === undefined && this.flat) this.fields = fieldsOf(this.flat);
    return this.fields;
  }

  setHeader(name: string, value: HeaderValue): this {
    (this.own() ?? (this.fields = {}))[name.toLowerCase()] = value;
    // The head changed: the flat array no longer says it.
    this.flat = undefined;
    return this;
  }

  getHeader(name: string): number | string | string[] | undefined {
    const key = name.toLowerCase();
    const value = this.own()?.[key] as number | string | string[] | undefined;
    // The access log asks once the response is sent: a whole body's length is the runtime's Content-Length.
    if (value === undefined && key === 'content-length' && this.whole !== undefined) return typeof this.whole === 'string' ? Buffer.byteLength(this.whole) : this.whole.byteLength;
    return value;
  }

  getHeaderNames(): string[] {
    const fields = this.own();
    return fields ? Object.keys(fields) : [];
  }

  removeHeader(name: string): void {
    const fields = this.own();
    this.flat = undefined;
    if (fields) delete fields[name.toLowerCase()];
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    if (this.headersSent) throw new Error('Cannot write headers after they are sent to the client');
    this.statusCode = status;
    if (Array.isArray(headers)) {
      // node's flat form: name, value, name, value … taken as it is when it is the whole head
      // (static.ts's forms keep theirs: see headsOf), else added to what was set before.
      if (this.fields === undefined && this.flat === undefined) this.flat = headers;
      else for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(String(headers[i]), headers[i + 1] as HeaderValue);
    } else if (headers) {
      // The pipeline's objects are fresh and lower-case: the common case takes the object as it is.
      if (this.fields === undefined && this.flat === undefined) this.fields = headers as Record<string, HeaderValue>;
      else for (const k in headers) if (headers[k] !== undefined) this.setHeader(k, headers[k]);
    }
    this.headersSent = true;
    return this;
  }

  /**
   * Makes the Response, with the headers set (see Peer.headersAfter for how).
   * Content-Length is left to the runtime when the body is whole (it knows the
   * length; one header less to check on every page). Invalid headers throw
   * here, as node's writeHead does, before anything is sent: the head is then
   * not sent, and the pipeline's error answer replaces it.
   */
  private answer(body: WebBody): void {
    const whole = body !== null && !(body instanceof ReadableStream);
    let response: Response;
    try {
      const status = this.statusCode;
      let pageHead: Headers | undefined;
      if (this.req.peer.headersAfter) response = whole && this.flat ? this.cloneOf(this.flat, body, status) : this.withHeaders(new Response(body, { status }), whole);
      else if (whole && this.flat) response = new Response(body, { status, headers: headsOf(this.flat) });
      else if (whole && (pageHead = pageHeadOf(this.own()))) response = this.withHeaders(new Response(body, { status, headers: pageHead }), whole, true);
      else response = new Response(body, { status, headers: this.headersInit(whole) });
    } catch (err) {
      this.headersSent = false;
      this.fields = undefined;
      this.flat = undefined;
      throw err;
    }
    this.headersSent = true;
    if (this.req.drained && this.req.peer.answersAfterBody) void this.req.drained.then(() => this.deliver(response));
    else this.deliver(response);
  }

  private deliver(response: Response): void {
    if (this.resolve) this.resolve(response);
    else this.response = response;
  }

  /** A clone of the file's Response made once (Deno: see TEMPLATES). */
  private cloneOf(flat: readonly unknown[], body: WebBody, status: number): Response {
    let template = TEMPLATES.get(flat);
    if (!template || template.body !== body || template.status !== status) {
      template = { body, status, response: this.withHeaders(new Response(body, { status }), true) };
      TEMPLATES.set(flat, template);
    }
    return template.response.clone();
  }

  /** The headers set on the Response one by one (Deno; Bun after a page head). */
  private withHeaders(response: Response, whole: boolean, withoutPageHead = false): Response {
    // Bun makes the Headers object of a Response when it is first asked for: not for a page head alone.
    let headers: Headers | undefined;
    const add = (name: string, value: string): void => {
      if (name === 'connection' && this.req.peer.closesItself) return;
      headers ??= response.headers;
      // A text body gave the Response a type of its own (text/plain): the page's replaces it.
      if (name === 'content-type') headers.set(name, value);
      else headers.append(name, value);
    };
    sentHead(this.own(), whole, add, withoutPageHead);
    return response;
  }

  /** The headers for the Response's constructor (Bun): the head object as it is when it can be, else its pairs. */
  private headersInit(whole: boolean): Record<string, string> | [string, string][] {
    const fields = this.own();
    // Names once each, values strings (a page's head): the object as it is.
    let plain = true;
    for (const k in fields) {
      if (typeof fields[k] !== 'string' || (whole && k === 'content-length')) {
        plain = false;
        break;
      }
    }
    if (plain) return (fields ?? {}) as Record<string, string>;
    const pairs: [string, string][] = [];
    sentHead(fields, whole, (name, value) => pairs.push([name, value]));
    return pairs;
  }

  write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.stream) this.startStream();
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
    if (bytes.byteLength) this.stream!.enqueue(bytes);
    const done = typeof encoding === 'function' ? encoding : cb;
    if (done) queueMicrotask(() => done());
    if ((this.stream!.desiredSize ?? 1) > 0) return true;
    this.needDrain = true;
    return false;
  }

  /** The body goes as a stream from here on: the head goes out now, each write as it comes. */
  private startStream(): void {
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.stream = controller;
        },
        pull: () => {
          if (!this.needDrain) return;
          this.needDrain = false;
          this.emit('drain');
        },
        cancel: () => this.gone(),
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
    this.answer(body);
    // The client went away (a closed tab, a cut download): the pipeline stops its file or stream.
    if (this.req.peer.signalsGone) this.req.request.signal.addEventListener('abort', () => this.gone(), { once: true });
  }

  end(chunk?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    if (this.writableEnded) return this;
    const body = typeof chunk === 'function' ? undefined : chunk;
    const done = typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : cb;
    if (this.stream) {
      if (body !== undefined && !this.destroyed) this.write(body, typeof encoding === 'string' ? encoding : undefined);
      this.writableEnded = true;
      try {
        this.stream.close();
      } catch {
        // Already cancelled by the client.
      }
    } else {
      const none = body === undefined || this.req.method === 'HEAD' || NULL_BODY.has(this.statusCode);
      if (!none) this.whole = body;
      this.answer(none ? null : typeof body === 'string' && typeof encoding === 'string' && encoding !== 'utf8' ? Buffer.from(body, encoding) : (body as WebBody));
      this.writableEnded = true;
    }
    this.finished(done);
    return this;
  }

  /**
   * See Res.sendFile: on Bun, the file's slice is the Response's body (Peer.fileBody).
   * Bun then adds `Content-Disposition: filename="…"` (no type, which browsers take as
   * a download) for a type they do not show themselves (a PDF, an archive), unless the
   * head has one: `inline` is what no header means (RFC 6266 §4.2), so the file is
   * shown or saved as it would be on Node.
   */
  sendFile(path: string, start: number, end: number): boolean {
    const file = this.req.peer.fileBody;
    if (!file || this.stream || this.writableEnded) return false;
    if (this.getHeader('content-disposition') === undefined) this.setHeader('content-disposition', 'inline');
    this.answer(file(path, start, end));
    this.writableEnded = true;
    this.finished();
    return true;
  }

  private finished(done?: () => void): void {
    this.writable = false;
    this.emit('finish');
    // A client that went away has had its `close` already.
    if (!this.destroyed) this.emit('close');
    if (done) queueMicrotask(done);
  }

  destroy(error?: Error): this {
    if (this.destroyed || this.writableEnded) return this;
    this.destroyed = true;
    this.writable = false;
    if (this.stream) {
      try {
        this.stream.error(error ?? new Error('response destroyed'));
      } catch {
        // Closed already.
      }
    } else if (!this.writableEnded) {
      // Nothing sent yet: a body that fails at once cuts the connection, as node's destroy() does.
      const broken = new ReadableStream<Uint8Array>({ start: (c) => c.error(error ?? new Error('response destroyed')) });
      this.headersSent = true;
      const response = new Response(broken, { status: this.statusCode });
      if (this.resolve) this.resolve(response);
      else this.response = response;
    }
    this.emit('close');
    return this;
  }

  /** The client went away before the end. */
  private gone(): void {
    if (this.writableEnded || this.destroyed) return;
    this.destroyed = true;
    this.writable = false;
    this.emit('close');
  }
}

