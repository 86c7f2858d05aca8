/**
 * `karrigell-ts/testing` (SPEC §12): a site started in-process for a test, and
 * a visitor that talks to it.
 *
 * ```ts
 * const site = await testSite('www');
 * const r = await site.post('/login', { user: 'ann' });
 * expect((await site.get('/account')).text).toContain('ann');
 * await site.close();
 * ```
 *
 * The server is the real one (createServer) on a free port of 127.0.0.1, so a
 * test sees exactly what a browser would; requests go through `fetch`. One
 * site object is one visitor: the cookies its answers set are sent back on
 * its next requests. Redirects are not followed (a test can check them).
 */
import { createServer, type RunningServer } from './server.js';
import type { ServerOptions } from './options.js';

/** A response as a test reads it. */
export interface TestResponse {
  status: number;
  headers: Headers;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON. */
  json<T = any>(): T;
}

export interface RequestOptions {
  headers?: Record<string, string>;
}

/** Fields of a form: a list gives the name several times (`tags[]`). */
export type FormFields = Record<string, string | number | boolean | readonly (string | number | boolean)[]>;

/** What `post` sends: form fields (url-encoded), `{ json: value }` (a JSON body), a FormData (multipart, files included) or URLSearchParams. */
export type PostBody = FormFields | { json: unknown } | FormData | URLSearchParams;

/** One visitor of a test site. */
export interface TestVisitor {
  /** `http://127.0.0.1:PORT` of the site. */
  readonly url: string;
  get(url: string, options?: RequestOptions): Promise<TestResponse>;
  post(url: string, body?: PostBody, options?: RequestOptions): Promise<TestResponse>;
  /** Any method (PUT, DELETE …), with the same bodies as `post`. */
  request(method: string, url: string, body?: PostBody, options?: RequestOptions): Promise<TestResponse>;
  /** The cookies this visitor holds now (name → value). */
  cookies(): Record<string, string>;
  /** Another visitor of the same site, with no cookies. */
  visitor(): TestVisitor;
  /** Stops the site (every visitor's). */
  close(): Promise<void>;
}

export interface TestSite extends TestVisitor {
  /** The running server (its options, registry, sessions). */
  readonly server: RunningServer;
}

/** Starts the site in `root` in-process; `options` are createServer's (`production`, `sessionStore` …), without a port to choose. */
export async function testSite(root: string, options: Partial<Omit<ServerOptions, 'root' | 'port' | 'host'>> = {}): Promise<TestSite> {
  const server = await createServer({ quiet: true, ...options, root, port: 0, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= server.close(1000));
  const first = makeVisitor(server.url, close);
  return Object.assign(first, { server });
}

function makeVisitor(base: string, close: () => Promise<void>): TestVisitor {
  const jar = new Map<string, string>();

  async function request(method: string, url: string, body?: PostBody, options: RequestOptions = {}): Promise<TestResponse> {
    const headers = new Headers(options.headers);
    if (jar.size && !headers.has('cookie')) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const init: RequestInit = { method, headers, redirect: 'manual' };
    if (body !== undefined) init.body = encode(body, headers);
    const target = new URL(url, base);
    if (target.origin !== new URL(base).origin) throw new Error(`testSite: ${url} is not a URL of the site (${base})`);
    const res = await fetch(target, init);
    for (const line of res.headers.getSetCookie()) keep(jar, line);
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json() {
        try {
          return JSON.parse(text);
        } catch {
          throw new Error(`${method} ${url} answered ${res.status} ${res.headers.get('content-type') ?? ''}, not JSON: ${text.slice(0, 200)}`);
        }
      },
    };
  }

  return {
    url: base,
    get: (url, options) => request('GET', url, undefined, options),
    post: (url, body, options) => request('POST', url, body, options),
    request,
    cookies: () => Object.fromEntries(jar),
    visitor: () => makeVisitor(base, close),
    close,
  };
}

/** The body of `post`; sets the content type for JSON and url-encoded fields (fetch sets multipart's boundary itself). */
function encode(body: PostBody, headers: Headers): NonNullable<RequestInit["body"]> {
  if (body instanceof FormData || body instanceof URLSearchParams) return body;
  const keys = Object.keys(body);
  if (keys.length === 1 && keys[0] === 'json') {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return JSON.stringify((body as { json: unknown }).json);
  }
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body as FormFields)) {
    if (Array.isArray(value)) for (const v of value) form.append(name, String(v));
    else form.append(name, String(value));
  }
  return form;
}

/** Keeps (or, when it has expired, drops) the cookie of one Set-Cookie line. Paths and domains are not told apart: one site, one visitor. */
function keep(jar: Map<string, string>, line: string): void {
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  let expired = false;
  for (const attribute of attributes) {
    const [key = '', v = ''] = attribute.split('=').map((s) => s.trim());
    if (key.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
    if (key.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
  }
  if (expired) jar.delete(name);
  else jar.set(name, value);
}
