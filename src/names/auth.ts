/** Authentication(), AUTH_USER and AUTH_PASSWORD (SPEC §4): HTTP Basic. */
import type { PageContext, ScopeExtensions } from '../script/context.js';
import { HttpError } from '../script/signals.js';

/** The credentials of an `Authorization: Basic` header. */
export interface Credentials {
  user: string;
  password: string;
}

const BASIC = /^\s*basic[ \t]+([A-Za-z0-9+/]+={0,2})\s*$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses an `Authorization` header value: `Basic base64(user:password)`.
 * The scheme is case-insensitive, surrounding whitespace is ignored, the
 * password may contain `:` (the first colon separates), and the decoded bytes
 * are UTF-8 (RFC 7617), with ISO-8859-1 as the fallback for legacy clients
 * that send bytes which are not valid UTF-8. Anything else gives `undefined`.
 */
export function parseBasicAuth(header: string | string[] | undefined): Credentials | undefined {
  if (typeof header !== 'string' || header.length > 16_384) return undefined;
  const m = BASIC.exec(header);
  if (!m) return undefined;
  const token = m[1]!;
  // Padding, when present, must complete a 4-character group; unpadded tokens are accepted.
  if (token.includes('=') ? token.length % 4 !== 0 : token.length % 4 === 1) return undefined;
  const bytes = Buffer.from(token, 'base64');
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
  } catch {
    decoded = bytes.toString('latin1');
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The value of `WWW-Authenticate` for `realm`; a TypeError for a realm that cannot be sent. */
export function basicChallenge(realm: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\0-\x08\x0a-\x1f\x7f]/.test(realm)) {
    throw new TypeError(`Authentication: the realm ${JSON.stringify(realm)} contains a line break or another control character (CR, LF, NUL …), which cannot be sent in a header`);
  }
  const quoted = asciiRealm(realm).replace(/["\\]/g, '\\$&');
  return `Basic realm="${quoted}", charset="UTF-8"`;
}

/**
 * Header values are ASCII in practice (Node writes them as ISO-8859-1 or
 * UTF-8 depending on the body, and rejects characters above U+00FF): accents
 * are dropped (`privé` → `prive`), other non-ASCII characters are sent as
 * their UTF-8 percent-encoding (`用` → `%E7%94%A8`).
 */
function asciiRealm(realm: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(realm)) return realm;
  return realm
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') // lone surrogates
    .replace(/[^\x00-\x7f]+/g, (s) => encodeURIComponent(s));
}

const parsed = new WeakMap<PageContext, Credentials | null>();

function credentialsOf(ctx: PageContext): Credentials | undefined {
  let c = parsed.get(ctx);
  if (c === undefined) {
    c = parseBasicAuth(ctx.req.headers.authorization) ?? null;
    parsed.set(ctx, c);
  }
  return c ?? undefined;
}

type Test = () => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The `Authentication` of one request's scope. */
function authenticationFor(ctx: PageContext) {
  return function Authentication(test: Test, realm: string = 'karrigell-ts', message: string = 'Authentication required'): void | Promise<void> {
    if (typeof test !== 'function') throw new TypeError('Authentication: the first argument must be a function returning true for an accepted user, e.g. Authentication(() => AUTH_USER === "ann" && AUTH_PASSWORD === "secret")');
    const challenge = basicChallenge(String(realm));
    const deny = (): HttpError => new HttpError(401, String(message), { 'www-authenticate': challenge, 'cache-control': 'no-store' });
    const result = test(); // a test that throws is a script error
    if (!isThenable(result)) {
      if (result !== true) throw deny();
      return;
    }
    const promise = Promise.resolve(result).then((ok) => {
      if (ok !== true) throw deny();
    });
    // A script that forgets `await` must not get its protected output sent, nor
    // crash the process with an unhandled rejection: the response waits for
    // `ctx.pending`, and a rejection there still answers 401.
    promise.catch(() => {});
    (ctx.pending ??= []).push(promise);
    return promise;
  };
}

/** The scope names of HTTP Basic authentication. */
export function authExtensions(): ScopeExtensions {
  const fns = new WeakMap<PageContext, ReturnType<typeof authenticationFor>>();
  return {
    AUTH_USER: (ctx) => credentialsOf(ctx)?.user,
    AUTH_PASSWORD: (ctx) => credentialsOf(ctx)?.password,
    Authentication: (ctx) => {
      let fn = fns.get(ctx);
      if (!fn) fns.set(ctx, (fn = authenticationFor(ctx)));
      return fn;
    },
  };
}
