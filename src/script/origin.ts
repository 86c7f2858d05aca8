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

function requestOrigin(req: Req, trustProxy: boolean): RequestOrigin {
  // `encrypted` is true on a TLS socket (Bun's plain sockets have it too, false).
  const direct = { clientAddress: req.socket.remoteAddress ?? '', secure: (req.socket as { encrypted?: boolean }).encrypted === true, host: requestHost(req, false) ?? '' };
  if (!trustProxy) return direct;
  const proto = firstValue(req, 'x-forwarded-proto')?.toLowerCase();
  return {
    clientAddress: firstValue(req, 'x-forwarded-for') ?? direct.clientAddress,
    secure: proto ? proto === 'https' : direct.secure,
    host: requestHost(req, true) ?? '',
  };
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
