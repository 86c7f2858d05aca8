/**
 * The types of one request as a script sees it: the context every part of a
 * request reads and writes, the fields, the session holder. Types only.
 */
import type { Req, Res } from '../exchange.js';
import type { RequestOrigin } from './origin.js';

/** An uploaded file, as found in QUERY. */
export interface UploadedFile {
  filename: string;
  type: string;
  size: number;
  data: Buffer;
}

export type FieldValue = string | string[] | UploadedFile | UploadedFile[] | unknown;
export type Fields = Record<string, FieldValue>;

/** The methods every session object has (not enumerable: `Object.keys(so)` shows only data). */
export interface SessionMethods {
  /** Discards the session: the next request starts a new, empty one. */
  close(): void;
  /** Gives the session a new id, keeping its data (call it after a login). */
  regenerate(): void;
}

export type SessionObject = Record<string, unknown> & SessionMethods;

/** The session of one request, shared with the scripts it includes. */
export interface SessionHolder {
  current?: SessionObject;
  id?: string;
  /** What the backend keeps about this request's session. */
  state?: unknown;
}

/** A slot of the output that an `Include` fills later, so that order is kept. */
export interface OutputSlot {
  text: string;
}

/** Everything known about one run of a page script. */
export interface PageContext {
  req: Req;
  res: Res;
  root: string;
  file: string;
  /** The URL as requested (path and query). */
  url: string;
  scriptUrl: string;
  args: string[];
  /** QUERY's fields: made from `query` on first use (query.ts fieldsOf), the body's added once read. */
  fields: Fields | undefined;
  /** The query string, without its `?`. */
  query: string;
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  out: (string | OutputSlot)[];
  /** Work that must end before the response is sent (unawaited Includes …). */
  pending: Promise<unknown>[] | undefined;
  /** Whether X-Forwarded-* are believed (--trust-proxy). */
  trustProxy: boolean;
  /** Client address, scheme and host: read them with `originOf(ctx)`. */
  origin: RequestOrigin | undefined;
  /** The session of this request (shared with the scripts it includes). */
  session: SessionHolder;
  /** Files this response depended on besides the page's imports (Includes, translations): live reload watches them. Undefined in production. */
  deps?: Set<string>;
  /** The scripts that included this one, outermost first (empty for the page itself: one shared empty list). */
  chain: readonly string[];
  /** Extra names given to an included script. */
  names?: Record<string, unknown>;
  /** The service being called (`/script/NAME`), once the page turned out to export functions. */
  service: string | undefined;
  /** The names other parts provide (sessions, includes, authentication, translations), listed in server.ts. */
  extensions: ScopeExtensions;
}

/** Names provided by other modules (sessions, includes, auth, translations). */
export type ScopeExtensions = Record<string, (ctx: PageContext) => unknown>;

