/** Where a request came from: client address, scheme and host (from X-Forwarded-* with --trust-proxy). */
import type { Req } from '../exchange.js';

export interface RequestOrigin {
  clientAddress: string;
  /** HTTPS (directly, or as told by a trusted proxy). */
  secure: boolean;
  /** Host the client asked for. */
  host: string;
}

/** What `originOf` needs of a page context: computed on first use, most pages never ask. */
export interface OriginSource {
  req: Req;
  trustProxy: boolean;
  origin: RequestOrigin | undefined;
}

export function originOf(ctx: OriginSource): RequestOrigin {
  return (ctx.origin ??= requestOrigin(ctx.req, ctx.trustProxy));
}

/** The state behind a RequestOrigin's lazy getters (ORIGIN_GETTERS). */
interface LazyOrigin extends RequestOrigin {
  req: Req;
  trustProxy: boolean;
  address: string | undefined;
  hostName: string | undefined;
}

/**
 * The address and the host are read when asked for: a new session's cookie
 * needs only `secure`, and on Bun the peer's address is a call into the
 * server (`requestIP`) that took a third of a new-session page's JavaScript.
 * The getters are shared (a prototype), not closures made per request: with
 * an object literal of getter closures, RSS grew +70–76 MB over 20 000 new
 * sessions on Deno against +22–25 MB (test/runtimes.test.ts's memory bound).
 */
const ORIGIN_GETTERS = {
  get clientAddress(): string {
    const o = this as unknown as LazyOrigin;
    return (o.address ??= (o.trustProxy ? firstValue(o.req, 'x-forwarded-for') : undefined) ?? o.req.socket.remoteAddress ?? '');
  },
  get host(): string {
    const o = this as unknown as LazyOrigin;
    return (o.hostName ??= requestHost(o.req, o.trustProxy) ?? '');
  },
};

function requestOrigin(req: Req, trustProxy: boolean): RequestOrigin {
  // `encrypted` is true on a TLS socket (Bun's plain sockets have it too, false).
  const direct = (req.socket as { encrypted?: boolean }).encrypted === true;
  const proto = trustProxy ? firstValue(req, 'x-forwarded-proto')?.toLowerCase() : undefined;
  const origin = Object.create(ORIGIN_GETTERS) as LazyOrigin;
  origin.secure = proto ? proto === 'https' : direct;
  origin.req = req;
  origin.trustProxy = trustProxy;
  origin.address = undefined;
  origin.hostName = undefined;
  return origin;
}

/**
 * The Host the browser used: `Host`, else HTTP/2's `:authority` (a request may have
 * no `host`), and behind a trusted proxy the first X-Forwarded-Host. An empty value
 * counts as missing. The one rule for REQUEST's host and cross-origin protection.
 */
export function requestHost(req: Req, trustProxy: boolean): string | undefined {
  return (trustProxy ? firstValue(req, 'x-forwarded-host') : undefined) ?? headerValue(req, 'host') ?? headerValue(req, ':authority');
}

/** A header's value (the first, if repeated); undefined when missing or empty. */
export function headerValue(req: Req, name: string): string | undefined {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) || undefined;
}

/** The first entry of a proxy's comma-separated list. */
function firstValue(req: Req, name: string): string | undefined {
  return headerValue(req, name)?.split(',')[0]?.trim() || undefined;
}
