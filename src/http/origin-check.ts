/**
 * Cross-origin protection (SPEC §4): the approach of Go 1.25's
 * `http.CrossOriginProtection`. Browsers say where a request comes from
 * (`Sec-Fetch-Site` since 2023, `Origin` before that), so an unsafe request
 * sent by another site's form or script can be refused without tokens a page
 * could forget. Requests without either header are not from a browser's
 * cross-origin context (curl, server-to-server calls) and pass.
 */
import type { Req } from '../exchange.js';
import { normalizeOrigin } from '../options.js';
import { headerValue, requestHost } from '../script/origin.js';

/** Methods that must not change anything (RFC 9110 §9.2.1): never refused. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why the request must be refused, or `undefined` when it may go on.
 * `allowed` holds normalised origins (`scheme://host[:port]`, see `normalizeOrigin` in options.ts).
 */
export function crossOriginRefusal(req: Req, allowed: ReadonlySet<string>, trustProxy: boolean): string | undefined {
  if (SAFE.has(req.method ?? 'GET')) return undefined;
  const origin = headerValue(req, 'origin');
  const site = headerValue(req, 'sec-fetch-site');
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return undefined;
    if (isAllowed(origin, allowed)) return undefined;
    return `Cross-origin request refused: the browser says it comes from another site (Sec-Fetch-Site: ${cut(site)}${origin ? `, Origin: ${cut(origin)}` : ''}); ${advice(origin)}`;
  }
  if (origin === undefined) return undefined;
  const host = requestHost(req, trustProxy);
  // Compare host[:port] only, as Go does: the scheme of the request is not known
  // behind every proxy. Browsers without Sec-Fetch-Site are older than 2023.
  if (host !== undefined && hostOf(origin) === host.toLowerCase()) return undefined;
  if (isAllowed(origin, allowed)) return undefined;
  return `Cross-origin request refused: Origin ${cut(origin)} is not this site (${host === undefined ? 'no Host header' : cut(host)}); ${advice(origin)}`;
}

/** How to let that origin in, when it is one. */
function advice(origin: string | undefined): string {
  const normal = origin === undefined ? undefined : normalizeOrigin(origin);
  return normal === undefined ? 'a trusted origin can be let in with --allow-origin ORIGIN' : `if it is trusted, start the server with --allow-origin ${normal}`;
}

/** Header text echoed in the answer, bounded. */
function cut(text: string): string {
  return text.length > 100 ? text.slice(0, 100) + '…' : text;
}

function isAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined || allowed.size === 0) return false;
  const normal = normalizeOrigin(origin);
  return normal !== undefined && allowed.has(normal);
}

/** The host[:port] of an Origin header, lower-cased; '' for `null` or garbage (never equal to a Host). */
function hostOf(origin: string): string {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return '';
  }
}
