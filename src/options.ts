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
  /** Seconds; 0 disables. */
  timeout: number;
  maxSessions: number;
  /** Seconds; 0 = never. */
  sessionTtl: number;
  sessionStore: string;
  workers: number;
  /** Compress responses (br, gzip, zstd where Node has it; SPEC §10); `--no-compression` turns it off. */
  compression: boolean;
  /** Production: seconds a static file may be reused without asking (`Cache-Control: public, max-age=S`). */
  staticMaxAge: number;
  /** The access log's format. */
  logFormat: LogFormat;
}

export const LOG_FORMATS = ['text', 'combined', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
    timeout: 10,
    maxSessions: 1000,
    sessionTtl: 86400,
    sessionStore: 'memory',
    workers: 1,
    compression: true,
    staticMaxAge: 0,
    logFormat: 'text',
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

/** Seconds, possibly fractional (`0.5`). */
export function parseSeconds(text: string, option: string): number {
  if (!/^\s*\d+(?:\.\d+)?\s*$/.test(text)) throw new OptionError(`${option}: ${JSON.stringify(text)} is not a number of seconds`);
  return Number(text);
}
