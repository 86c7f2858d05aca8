/** Server options, their defaults and the parsing of their values (SPEC §1). */

export interface ServerOptions {
  /** Folder of the site. */
  root: string;
  port: number;
  host: string;
  production: boolean;
  listing: boolean;
  quiet: boolean;
  trustProxy: boolean;
  /** Bytes. */
  bodyLimit: number;
  uploadLimit: number;
  /** Fields of a url-encoded body (also top-level keys of a JSON body, non-file parts of a multipart body). */
  maxFields: number;
  /** Parts of a multipart body (files and fields). */
  maxParts: number;
  /** Bytes of a field name. */
  maxFieldName: number;
  /** Seconds; 0 disables. */
  timeout: number;
  maxSessions: number;
  /** Seconds; 0 = never. */
  sessionTtl: number;
  sessionStore: string;
  /** Processes sharing the port; in production 1 runs under a supervising primary, 0 is one process without it. */
  workers: number;
  /** Origins (`scheme://host[:port]`, normalised by `parseOrigin`) whose cross-origin unsafe requests are accepted (SPEC §4). */
  allowOrigin: string[];
  /** Development: `in-place` morphs the open page keeping its state, `full` reloads it (SPEC §7). */
  live: LiveMode;
  /** PEM files: HTTPS with HTTP/2 and HTTP/1.1 on one port (ALPN). */
  tlsCert?: string;
  tlsKey?: string;
  /** Development HTTPS with the kept self-signed localhost certificate (unless tlsCert/tlsKey are given). */
  https: boolean;
}

export type LiveMode = 'in-place' | 'full';

/** The defaults of every option. */
export function defaultOptions(env: NodeJS.ProcessEnv = process.env): ServerOptions {
  return {
    root: 'www',
    port: env.PORT !== undefined && env.PORT !== '' ? parsePort(env.PORT, '$PORT') : 8080,
    host: '127.0.0.1',
    production: env.NODE_ENV === 'production',
    listing: false,
    quiet: false,
    trustProxy: false,
    bodyLimit: 1024 * 1024,
    uploadLimit: 50 * 1024 * 1024,
    maxFields: 1000,
    maxParts: 1000,
    maxFieldName: 200,
    timeout: 10,
    maxSessions: 1000,
    sessionTtl: 86400,
    sessionStore: 'memory',
    workers: 1,
    allowOrigin: [],
    live: 'in-place',
    https: false,
  };
}

/** A bad option value; the CLI prints its message on one line. */
/** A bad option value (or a bad combination): one line, exit 1. */
export class OptionError extends Error {}

/** Valid options, but the server cannot start: a port in use, Redis unreachable, scripts that fail to compile. One line, exit 1. */
export class StartError extends Error {}

/** A failure the command line reports in one line, without a stack. */
export function isStartFailure(err: unknown): err is OptionError | StartError {
  return err instanceof OptionError || err instanceof StartError;
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/** `512kb`, `4mb`, `1gb` or bytes → bytes. */
export function parseSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new OptionError(`${option}: ${JSON.stringify(text)} is not a size (use bytes or e.g. 512kb, 4mb, 1gb)`);
  return Math.floor(Number(m[1]) * unit);
}

/** A whole number in [min, max]. */
export function parseInteger(text: string, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new OptionError(`${option}: ${JSON.stringify(text)} is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new OptionError(`${option}: ${n} is out of range (${min}–${max})`);
  return n;
}

/** A TCP port, 0 meaning any free port. */
export function parsePort(text: string, option = '--port'): number {
  return parseInteger(text, option, 0, 65535);
}

/** `--live MODE`: `in-place` or `full`. */
export function parseLiveMode(text: string, option = '--live'): LiveMode {
  if (text === 'in-place' || text === 'full') return text;
  throw new OptionError(`${option}: ${JSON.stringify(text)} is neither "in-place" nor "full"`);
}

/** Seconds, possibly fractional (`0.5`). */
export function parseSeconds(text: string, option: string): number {
  if (!/^\s*\d+(?:\.\d+)?\s*$/.test(text)) throw new OptionError(`${option}: ${JSON.stringify(text)} is not a number of seconds`);
  return Number(text);
}

/**
 * An origin as browsers write the `Origin` header: lower-case scheme and host,
 * no default port, no path (`https://app.example/` is forgiven, it is what
 * people paste). `undefined` when the text is not an http(s) origin.
 */
export function normalizeOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (!/^https?:$/.test(url.protocol) || !url.host || url.username || url.password) return undefined;
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(text)) return undefined;
  return url.origin;
}

/** An `--allow-origin` value → its normal form; throws OptionError. */
export function parseOrigin(text: string, option = '--allow-origin'): string {
  const origin = normalizeOrigin(text);
  if (origin === undefined) throw new OptionError(`${option}: ${JSON.stringify(text)} is not an origin (write scheme://host[:port], e.g. https://app.example or http://localhost:3000)`);
  return origin;
}
