/** The names a page script finds in its scope (SPEC §4), built lazily per request. */
import * as cookie from 'cookie';
import { html, raw, isRaw, tspEscaped, tspInTag, tspRaw } from '../html.js';
import { HTTP_REDIRECTION, HTTP_ERROR, SCRIPT_END } from './signals.js';
import { createHeaderBag } from './headers.js';
import { originOf } from './origin.js';
import { fieldsOf } from './query.js';
import type { PageContext, ScopeExtensions } from './context.js';

/** Renders one printed value: strings as they are, JSX/raw as HTML, the rest with String(). */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRaw(value)) return value.value;
  return String(value);
}

/** Appends to the output what `print(...values)` prints. */
export function printTo(ctx: PageContext, values: unknown[]): void {
  ctx.out.push(values.length === 1 ? renderValue(values[0]) + '\n' : values.map(renderValue).join(' ') + '\n');
}

/** Language tags of Accept-Language, lower-cased, by q (ties in header order), q=0 dropped. */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  const tags: { tag: string; q: number; i: number }[] = [];
  header.split(',').forEach((part, i) => {
    const [tag, ...params] = part.trim().split(';');
    if (!tag || !/^[A-Za-z*][A-Za-z0-9*-]*$/.test(tag.trim())) return;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!(q > 0) || q > 1) return;
    tags.push({ tag: tag.trim().toLowerCase(), q, i });
  });
  return tags.sort((a, b) => b.q - a.q || a.i - b.i).map((t) => t.tag);
}

function lazy<T>(obj: object, name: string, value: T): T {
  Object.defineProperty(obj, name, { value, enumerable: true });
  return value;
}

/** The names that are the same for every request: usable anywhere, also at a module's top level. */
export const REQUEST_INDEPENDENT = { html, raw, HTTP_REDIRECTION, HTTP_ERROR, SCRIPT_END, __kts_esc: tspEscaped } as const;

type Scope = { c: PageContext } & Record<string, unknown>;

/** The getters shared by every scope; `this.c` is the request's context. */
const BASE: PropertyDescriptorMap & ThisType<Scope> = {
  QUERY: { get(this: Scope) { return fieldsOf(this.c); }, enumerable: true },
  REQUEST: { get(this: Scope) { return fieldsOf(this.c); }, enumerable: true },
  HEADERS: { get(this: Scope) { return this.c.req.headers; }, enumerable: true },
  COOKIE: {
    get(this: Scope) {
      return lazy(this, 'COOKIE', cookie.parse(this.c.req.headers.cookie ?? ''));
    },
    enumerable: true,
  },
  SET_COOKIE: {
    get(this: Scope) {
      const ctx = this.c;
      return (name: string, value: string, options: cookie.SerializeOptions = {}) => {
        try {
          ctx.cookies.push(cookie.serialize(name, String(value), { path: '/', ...options }));
        } catch (err) {
          throw new TypeError(`SET_COOKIE(${JSON.stringify(String(name)).slice(0, 80)}, …): ${(err as Error).message}`);
        }
      };
    },
    enumerable: true,
  },
  RESPONSE: {
    get(this: Scope) {
      const ctx = this.c;
      const headers = createHeaderBag(ctx.headers);
      ctx.headers = headers;
      return lazy(this, 'RESPONSE', {
        get status() {
          return ctx.status;
        },
        set status(v: number) {
          if (!Number.isInteger(v) || v < 100 || v > 599) throw new TypeError(`RESPONSE.status: ${v} is not an HTTP status`);
          ctx.status = v;
        },
        headers,
      });
    },
    enumerable: true,
  },
  THIS: {
    get(this: Scope) {
      const ctx = this.c;
      const baseUrl = ctx.scriptUrl.slice(0, ctx.scriptUrl.lastIndexOf('/') + 1);
      const dir = ctx.file.slice(0, ctx.file.lastIndexOf('/'));
      return lazy(this, 'THIS', { url: ctx.url, scriptUrl: ctx.scriptUrl, baseUrl, args: ctx.args, path: ctx.file, dir });
    },
    enumerable: true,
  },
  REQUEST_HANDLER: {
    get(this: Scope) {
      const { req, res } = this.c;
      const { clientAddress, secure, host } = originOf(this.c);
      // Node's objects (SPEC §4): over HTTP/2 the pipeline has the stream's adapter, and Node's pair is made when asked for.
      const node = req.nodeObjects?.bind(req);
      return {
        method: req.method ?? 'GET',
        clientAddress,
        protocol: secure ? 'https' : 'http',
        host,
        httpVersion: req.httpVersion,
        get req() {
          return node ? node().req : req;
        },
        get res() {
          return node ? node().res : res;
        },
      };
    },
    enumerable: true,
  },
  ACCEPTED_LANGUAGES: {
    get(this: Scope) {
      return lazy(this, 'ACCEPTED_LANGUAGES', acceptedLanguages(this.c.req.headers['accept-language']));
    },
    enumerable: true,
  },
  print: {
    get(this: Scope) {
      const ctx = this.c;
      return (...values: unknown[]) => printTo(ctx, values);
    },
    enumerable: true,
  },
  html: { value: REQUEST_INDEPENDENT.html, enumerable: true },
  raw: { value: REQUEST_INDEPENDENT.raw, enumerable: true },
  HTTP_REDIRECTION: { value: REQUEST_INDEPENDENT.HTTP_REDIRECTION, enumerable: true },
  HTTP_ERROR: { value: REQUEST_INDEPENDENT.HTTP_ERROR, enumerable: true },
  SCRIPT_END: { value: REQUEST_INDEPENDENT.SCRIPT_END, enumerable: true },
  __kts_out: {
    get(this: Scope) {
      const out = this.c.out;
      return (text: string) => out.push(text);
    },
  },
  __kts_esc: { value: tspEscaped },
  __kts_raw: { value: tspRaw },
  __kts_tag: { value: tspInTag },
};

const prototypes = new WeakMap<ScopeExtensions, object>();

/** The prototype of scopes with these extensions: built once, shared by every request. */
function prototypeFor(extensions: ScopeExtensions): object {
  let proto = prototypes.get(extensions);
  if (!proto) {
    const descriptors: PropertyDescriptorMap = { ...BASE };
    for (const name in extensions) {
      const make = extensions[name]!;
      descriptors[name] = {
        get(this: Scope) {
          return make(this.c);
        },
        enumerable: true,
      };
    }
    proto = Object.create(null, descriptors) as object;
    prototypes.set(extensions, proto);
  }
  return proto;
}

/** Every name a scope with these extensions provides (the test of SCOPE_NAME_TABLE reads it). */
export function providedNames(extensions: ScopeExtensions): string[] {
  return Object.getOwnPropertyNames(prototypeFor(extensions));
}

/** The scope object of one request: one allocation; every name is computed on first use only. */
export function createScope(ctx: PageContext): Record<string, unknown> {
  const scope = Object.create(prototypeFor(ctx.extensions)) as Scope;
  scope.c = ctx;
  if (ctx.names) for (const name in ctx.names) Object.defineProperty(scope, name, { value: ctx.names[name], enumerable: true });
  return scope;
}
