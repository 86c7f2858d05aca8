/** The names a page script finds in its scope (SPEC §4), built lazily per request. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as cookie from 'cookie';
import { html, raw, toHtml, isRaw } from './html.js';
import { HTTP_REDIRECTION, HTTP_ERROR, SCRIPT_END } from './signals.js';
import { createHeaderBag } from './headers.js';
import type { Fields } from './fields.js';

/** A slot of the output that an `Include` fills later, so that order is kept. */
export interface OutputSlot {
  text: string;
}

/** Everything known about one run of a page script. */
export interface PageContext {
  req: IncomingMessage;
  res: ServerResponse;
  root: string;
  file: string;
  /** The URL as requested (path and query). */
  url: string;
  scriptUrl: string;
  args: string[];
  fields: Fields;
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  out: (string | OutputSlot)[];
  /** Work that must end before the response is sent (unawaited Includes …). */
  pending: Promise<unknown>[];
  clientAddress: string;
  secure: boolean;
  /** Extra names given to an included script. */
  names?: Record<string, unknown>;
  /** Services a later issue plugs in: sessions, includes, authentication, translations. */
  extensions: ScopeExtensions;
}

/** Names provided by other modules (sessions, includes, auth, translations). */
export type ScopeExtensions = Record<string, (ctx: PageContext) => unknown>;

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

/** The scope object of one request; every name is computed on first use only. */
export function createScope(ctx: PageContext): Record<string, unknown> {
  const scope = {
    get QUERY() {
      return ctx.fields;
    },
    get REQUEST() {
      return ctx.fields;
    },
    get HEADERS() {
      return ctx.req.headers;
    },
    get COOKIE() {
      return lazy(this, 'COOKIE', cookie.parse(ctx.req.headers.cookie ?? ''));
    },
    get SET_COOKIE() {
      return (name: string, value: string, options: cookie.SerializeOptions = {}) => {
        ctx.cookies.push(cookie.serialize(name, String(value), { path: '/', ...options }));
      };
    },
    get RESPONSE() {
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
    get THIS() {
      const baseUrl = ctx.scriptUrl.slice(0, ctx.scriptUrl.lastIndexOf('/') + 1);
      const dir = ctx.file.slice(0, ctx.file.lastIndexOf('/'));
      return lazy(this, 'THIS', { url: ctx.url, scriptUrl: ctx.scriptUrl, baseUrl, args: ctx.args, path: ctx.file, dir });
    },
    get REQUEST_HANDLER() {
      const { req, res } = ctx;
      return { method: req.method ?? 'GET', clientAddress: ctx.clientAddress, httpVersion: req.httpVersion, req, res };
    },
    get ACCEPTED_LANGUAGES() {
      return lazy(this, 'ACCEPTED_LANGUAGES', acceptedLanguages(ctx.req.headers['accept-language']));
    },
    get print() {
      return (...values: unknown[]) => printTo(ctx, values);
    },
    html,
    raw,
    HTTP_REDIRECTION,
    HTTP_ERROR,
    SCRIPT_END,
    get __kts_out() {
      return (text: string) => ctx.out.push(text);
    },
    __kts_esc: toHtml,
  };
  for (const name in ctx.extensions) {
    const make = ctx.extensions[name]!;
    Object.defineProperty(scope, name, { get: () => make(ctx), enumerable: true, configurable: true });
  }
  if (ctx.names) for (const name in ctx.names) Object.defineProperty(scope, name, { value: ctx.names[name], enumerable: true });
  return scope;
}
