/// <reference types="node" />
/**
 * The names karrigell-ts puts in the scope of every page script (SPEC §4).
 * A site's tsconfig.json lists this file (`npx karrigell-ts init` writes one
 * with its path, e.g. `"files": ["../node_modules/karrigell-ts/types/globals.d.ts"]`)
 * so that editors complete and check them; `npx karrigell-ts check` always
 * includes it.
 *
 * Karrigell's `_name` shortcuts (QUERY.name) cannot be declared here, one
 * name each: `karrigell-ts check` declares those a script uses as
 * `FieldValue`. To have them known by the editor too, declare them in the
 * script: `declare const _name: FieldValue;` (it compiles to nothing).
 */
import type { IncomingMessage, ServerResponse, IncomingHttpHeaders } from 'node:http';
import type { RawHtml as PackageRawHtml } from 'karrigell-ts';

declare global {
  interface ImportMeta {
    /**
     * Module lifecycle (Vite's convention; present in development and production):
     * `import.meta.hot?.dispose(fn)` in a module that pages import runs `fn` before
     * an edit replaces the module (development) and when the server stops gracefully.
     */
    readonly hot?: { dispose(fn: () => unknown): void };
  }

  /** An uploaded file, as found in QUERY. */
  interface UploadedFile {
    filename: string;
    type: string;
    size: number;
    data: Buffer;
  }

  /** HTML that `html```, JSX and `<%= %>` insert without escaping (made by `raw()`); the type `karrigell-ts` exports. */
  interface RawHtml extends PackageRawHtml {}

  /**
   * A field of QUERY as forms send it: a string, a list of strings (`name[]`),
   * an uploaded file (or several, `name[]`), or undefined when absent.
   *
   * The members of a JSON body keep their JSON types at run time (numbers,
   * booleans, objects …), which this type does not list, so that form pages
   * stay easy to write. A page that receives JSON should check what it gets
   * (`typeof QUERY.count === 'number'`) or say what it expects
   * (`QUERY.items as unknown as Item[]`).
   */
  type FieldValue = string | string[] | UploadedFile | UploadedFile[] | undefined;

  /**
   * The session data. Declare what you keep to type it, in any script or
   * `.d.ts` file of the site:
   * `declare global { interface SessionData { name?: string } }`.
   * Keys not declared are `any`.
   */
  interface SessionData {
    [key: string]: any;
  }

  /** The object `Session()` returns. */
  type SessionObject = SessionData & {
    /** Discards the session: the next request starts a new, empty one. */
    close(): void;
    /** Gives the session a new id, keeping its data (use it after a login). */
    regenerate(): void;
  };

  /** Fields from the query string and the body; body fields win. */
  const QUERY: Record<string, FieldValue>;
  /** Alias of QUERY. */
  const REQUEST: Record<string, FieldValue>;
  /** Request headers, lower-case names. */
  const HEADERS: IncomingHttpHeaders;
  /** Request cookies, values percent-decoded. */
  const COOKIE: Record<string, string | undefined>;
  /** Adds a Set-Cookie header (options as in the `cookie` package; path defaults to `/`). */
  function SET_COOKIE(
    name: string,
    value: string,
    options?: {
      path?: string;
      domain?: string;
      maxAge?: number;
      expires?: Date;
      httpOnly?: boolean;
      secure?: boolean;
      sameSite?: boolean | 'lax' | 'strict' | 'none';
      partitioned?: boolean;
      priority?: 'low' | 'medium' | 'high';
    },
  ): void;
  /** The response being built; header names are case-insensitive. */
  const RESPONSE: { status: number; headers: Record<string, string> };
  /** This script: URL as requested, URL up to the script, its folder's URL, extra path segments, file, folder. */
  const THIS: { url: string; scriptUrl: string; baseUrl: string; args: string[]; path: string; dir: string };
  /** The request as Node sees it. */
  const REQUEST_HANDLER: {
    method: string;
    clientAddress: string;
    /** `https` over TLS (or, with --trust-proxy, when X-Forwarded-Proto says so). */
    protocol: 'http' | 'https';
    /** The Host the client asked for (X-Forwarded-Host with --trust-proxy). */
    host: string;
    httpVersion: string;
    req: IncomingMessage;
    res: ServerResponse;
  };
  /** Language tags from Accept-Language, lower-cased, best first. */
  const ACCEPTED_LANGUAGES: string[];
  /** Appends the values (joined by a space, then a newline) to the response body. */
  function print(...values: unknown[]): void;
  /** Tagged template that escapes every interpolated value that is not raw(). */
  function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml;
  /** Marks text as trusted HTML. */
  function raw(text: unknown): RawHtml;
  /** Inserts a static file's text, or another script's output, at this point of the output. */
  function Include(path: string, names?: Record<string, unknown>): Promise<void>;
  /** This visitor's session. */
  function Session(): SessionObject;
  /** HTTP Basic authentication: unless test() is true, answers 401 and stops the script. */
  function Authentication(test: () => boolean, realm?: string, message?: string): void;
  function Authentication(test: () => Promise<boolean>, realm?: string, message?: string): Promise<void>;
  /** User name from an Authorization: Basic header. */
  const AUTH_USER: string | undefined;
  /** Password from an Authorization: Basic header. */
  const AUTH_PASSWORD: string | undefined;
  /** `text` translated into the visitor's best language (ROOT/_translations/LANG.json). */
  function _(text: string): string;
  /** For the rest of this request, `_()` translates into `tag` first, then ACCEPTED_LANGUAGES (e.g. a choice kept in the session). */
  function SET_LANGUAGE(tag: string): void;
  /** Stops the script and redirects (callable, or `throw new HTTP_REDIRECTION(url)`). */
  const HTTP_REDIRECTION: {
    (url: string, status?: 301 | 302 | 303 | 307 | 308): never;
    new (url: string, status?: 301 | 302 | 303 | 307 | 308): Error;
  };
  /** Stops the script and answers this status (callable, or `throw new HTTP_ERROR(404)`). */
  const HTTP_ERROR: { (status: number, message?: string): never; new (status: number, message?: string): Error };
  /** Stops the script; what was printed so far is sent. */
  const SCRIPT_END: { (): never; new (): Error };

  interface ImportMeta {
    /** Module lifecycle (SPEC §4, Vite's convention): `import.meta.hot?.dispose(() => db.close())` in a site module. */
    hot?: { dispose(fn: () => unknown): void };
  }
}

export {};
