/**
 * The options of `serve` (SPEC §1) in one table: the command line's flags,
 * the config file's keys (the long names in camelCase), --help's lines and
 * the parsing of each value all come from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defaultOptions, OptionError, parseInteger, parseLiveMode, parseOrigin, parsePort, parseSeconds, parseSize, type ServerOptions } from '../options.js';

interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's name in --help (`N`, `SIZE` …), for string options. */
  arg?: string;
  help: string;
  /** A file name: in a config file, relative to the file's folder. */
  file?: boolean;
  /** Repeatable (`--allow-origin A --allow-origin B`; an array in the config file): `set` is called once per value. */
  multiple?: boolean;
  /** Sets the option from its text (string options) or `true`/`false` (boolean ones); `name` is how messages call it. Throws OptionError. */
  set(o: ServerOptions, value: string | boolean, name: string): void;
}

const text = (v: string | boolean): string => String(v);

/** Flag (without `--`) → its spec; the order is --help's. */
export const SERVE_OPTIONS: Record<string, OptionSpec> = {
  port: { type: 'string', arg: 'N', help: 'port, 0 = any free port (default 8080, or $PORT)', set: (o, v, n) => (o.port = parsePort(text(v), n)) },
  host: {
    type: 'string',
    arg: 'H',
    help: 'address to listen on (default 127.0.0.1)',
    set: (o, v, n) => {
      if (!text(v).trim()) throw new OptionError(`${n}: an address is required`);
      o.host = text(v);
    },
  },
  production: { type: 'boolean', help: 'no watcher, no live reload, no error details to the client\n(also NODE_ENV=production)', set: (o, v) => (o.production = v === true) },
  'max-sessions': { type: 'string', arg: 'N', help: 'bound of the in-memory session store (default 1000)', set: (o, v, n) => (o.maxSessions = parseInteger(text(v), n, 1)) },
  'session-ttl': { type: 'string', arg: 'S', help: 'idle seconds before a session expires, 0 = never (default 86400)', set: (o, v, n) => (o.sessionTtl = parseInteger(text(v), n, 0)) },
  'session-store': {
    type: 'string',
    arg: 'URL',
    help: 'memory (default) or redis://host:port/db',
    set: (o, v, n) => {
      const store = text(v);
      if (store !== 'memory' && !/^rediss?:\/\//.test(store)) throw new OptionError(`${n}: ${JSON.stringify(store)} is neither "memory" nor a redis:// URL`);
      o.sessionStore = store;
    },
  },
  workers: {
    type: 'string',
    arg: 'N',
    help: 'processes sharing the port (default 1; >1 needs a shared store);\nin production a primary replaces a worker that dies (out of\nmemory …) and SIGHUP reloads the code without dropping a request;\n0 = one process without that primary',
    set: (o, v, n) => (o.workers = parseInteger(text(v), n, 0, 256)),
  },
  timeout: { type: 'string', arg: 'S', help: 'stop a script after S seconds with 503, 0 = never (default 10)', set: (o, v, n) => (o.timeout = parseSeconds(text(v), n)) },
  'body-limit': { type: 'string', arg: 'SIZE', help: 'url-encoded and JSON bodies (default 1mb)', set: (o, v, n) => (o.bodyLimit = parseSize(text(v), n)) },
  'upload-limit': { type: 'string', arg: 'SIZE', help: 'multipart bodies (default 50mb)', set: (o, v, n) => (o.uploadLimit = parseSize(text(v), n)) },
  'max-fields': { type: 'string', arg: 'N', help: 'fields of a body (default 1000)', set: (o, v, n) => (o.maxFields = parseInteger(text(v), n, 1)) },
  'max-parts': { type: 'string', arg: 'N', help: 'parts of a multipart body, files included (default 1000)', set: (o, v, n) => (o.maxParts = parseInteger(text(v), n, 1)) },
  'max-field-name': { type: 'string', arg: 'N', help: 'bytes of a field name (default 200)', set: (o, v, n) => (o.maxFieldName = parseInteger(text(v), n, 1)) },
  listing: { type: 'boolean', help: 'list folders that have no index file', set: (o, v) => (o.listing = v === true) },
  live: { type: 'string', arg: 'MODE', help: 'development: in-place (default) updates the open page keeping\nits state; full reloads it on every change', set: (o, v) => (o.live = parseLiveMode(text(v))) },
  'trust-proxy': { type: 'boolean', help: 'honour X-Forwarded-For/Proto/Host', set: (o, v) => (o.trustProxy = v === true) },
  quiet: { type: 'boolean', help: 'no access log', set: (o, v) => (o.quiet = v === true) },
  'allow-origin': {
    type: 'string',
    arg: 'ORIGIN',
    multiple: true,
    help: 'accept form posts and other unsafe requests from this origin\n(e.g. https://app.example; repeatable). Other origins get 403.',
    set: (o, v, n) => o.allowOrigin.push(parseOrigin(text(v), n)),
  },
  'tls-cert': { type: 'string', arg: 'FILE', file: true, help: 'HTTPS with HTTP/2 and HTTP/1.1: the certificate (PEM) ...', set: (o, v, n) => (o.tlsCert = nonEmpty(text(v), n)) },
  'tls-key': { type: 'string', arg: 'FILE', file: true, help: '... and its private key (PEM)', set: (o, v, n) => (o.tlsKey = nonEmpty(text(v), n)) },
  https: { type: 'boolean', help: 'development HTTPS with a self-signed localhost certificate,\nmade once and kept in $XDG_CACHE_HOME/karrigell-ts (~/.cache/…)', set: (o, v) => (o.https = v === true) },
  config: { type: 'string', arg: 'FILE', help: 'options as JSON, e.g. {"port": 8080, "sessionStore": "redis://…"}\n(default ./karrigell.config.json if present; flags win)', set: () => {} },
};

function nonEmpty(v: string, name: string): string {
  if (!v.trim()) throw new OptionError(`${name}: a file name is required`);
  return v;
}

/** `max-sessions` → `maxSessions`. */
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The config file read when no --config is given. */
export const DEFAULT_CONFIG = 'karrigell.config.json';

/** --help's lines for the options of serve. */
export function serveOptionsHelp(): string {
  return Object.entries(SERVE_OPTIONS)
    .map(([flag, spec]) => {
      const left = `  --${flag}${spec.arg ? ' ' + spec.arg : ''}`;
      const [first, ...rest] = spec.help.split('\n');
      return [left.padEnd(25) + first, ...rest.map((l) => ' '.repeat(25) + l)].join('\n');
    })
    .join('\n');
}

/**
 * The server's options: the defaults (and $PORT, NODE_ENV), then the config
 * file, then the flags of the command line. Throws OptionError.
 */
export function toServerOptions(values: Record<string, string | boolean | string[] | undefined>, root: string | undefined, cwd = process.cwd()): ServerOptions {
  const o = defaultOptions();
  if (root !== undefined) o.root = root;
  applyConfigFile(o, typeof values.config === 'string' ? values.config : undefined, cwd);
  for (const [flag, spec] of Object.entries(SERVE_OPTIONS)) {
    const v = values[flag];
    if (v === undefined || flag === 'config') continue;
    if (Array.isArray(v)) {
      // The command line wins: its values replace those of the config file.
      if (spec.multiple) o.allowOrigin = [];
      for (const one of v) spec.set(o, one, `--${flag}`);
    } else spec.set(o, v, `--${flag}`);
  }
  if (o.workers > 1 && o.sessionStore === 'memory') {
    throw new OptionError('--workers > 1 needs a shared session store: add --session-store redis://host:port (with the memory store each process would have its own sessions)');
  }
  return o;
}

/** Applies `--config FILE`, or ./karrigell.config.json when it exists. */
function applyConfigFile(o: ServerOptions, given: string | undefined, cwd: string): void {
  const file = path.resolve(cwd, given ?? DEFAULT_CONFIG);
  const shown = given ?? DEFAULT_CONFIG;
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (given === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new OptionError(`--config: cannot read ${shown} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let config: unknown;
  try {
    config = JSON.parse(source);
  } catch (err) {
    throw new OptionError(`${shown}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new OptionError(`${shown}: must be a JSON object of options, e.g. {"port": 8080}`);
  const byKey = new Map(Object.entries(SERVE_OPTIONS).filter(([flag]) => flag !== 'config').map(([flag, spec]) => [camel(flag), spec]));
  for (const [key, value] of Object.entries(config)) {
    const spec = byKey.get(key);
    const name = `${shown}: "${key}"`;
    if (!spec) throw new OptionError(`${shown}: unknown option "${key}" (known: ${[...byKey.keys()].join(', ')})`);
    if (spec.multiple && Array.isArray(value)) {
      for (const one of value) {
        if (typeof one !== 'string') throw new OptionError(`${name} must be a list of strings, not ${JSON.stringify(value)}`);
        spec.set(o, one, name);
      }
    } else if (spec.type === 'boolean') {
      if (typeof value !== 'boolean') throw new OptionError(`${name} must be true or false, not ${JSON.stringify(value)}`);
      spec.set(o, value, name);
    } else {
      if (typeof value !== 'string' && typeof value !== 'number') throw new OptionError(`${name} must be a ${spec.arg === 'N' || spec.arg === 'S' ? 'number' : 'string'}, not ${JSON.stringify(value)}`);
      const v = String(value);
      spec.set(o, spec.file && v.trim() ? path.resolve(path.dirname(file), v) : v, name);
    }
  }
}
