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
  const direct = { clientAddress: req.socket.remoteAddress ?? '', secure: (req.socket as { encrypted?: boolean }).encrypted === true, host: req.headers.host ?? authority(req) };
  if (!trustProxy) return direct;
  const first = (name: string): string | undefined => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;
  };
  const proto = first('x-forwarded-proto')?.toLowerCase();
  return {
    clientAddress: first('x-forwarded-for') ?? direct.clientAddress,
    secure: proto ? proto === 'https' : direct.secure,
    host: first('x-forwarded-host') ?? direct.host,
  };
}

/** HTTP/2 names the host in its `:authority` pseudo-header (a request may have no `host`). */
function authority(req: Req): string {
  const v = req.headers[':authority'];
  return typeof v === 'string' ? v : '';
}
