/** The command line (SPEC §1): serve, init, check, --help, --version. */
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import { createServer } from '../server.js';
import { runCluster } from './cluster.js';
import { CAN_INTERRUPT_SCRIPTS, RUNTIME, RUNTIME_LABEL } from '../runtime.js';
import { supervise, SUPERVISED_ENV } from './supervise.js';
import { bannerLine } from '../log.js';
import { runInit } from './init.js';
import { runCheck } from './check.js';
import { defaultOptions, isStartFailure, OptionError, parseInteger, parsePort, parseSeconds, parseSize, type ServerOptions } from '../options.js';

const HELP = `karrigell-ts — drop a TypeScript script in a folder, open its URL.

Usage:
  karrigell-ts serve [ROOT=www] [options]   serve the site in ROOT
  karrigell-ts init [DIR=www]               create a ready site (never overwrites a file)
  karrigell-ts check [ROOT=www] [--watch]   type-check every script in ROOT
  karrigell-ts --help | --version

Options of serve:
  --port N               port, 0 = any free port (default 8080, or $PORT)
  --host H               address to listen on (default 127.0.0.1)
  --production           no watcher, no live reload, no error details to the client
                         (also NODE_ENV=production)
  --max-sessions N       bound of the in-memory session store (default 1000)
  --session-ttl S        idle seconds before a session expires, 0 = never (default 86400)
  --session-store URL    memory (default) or redis://host:port/db
  --workers N            processes sharing the port (default 1; >1 needs a shared store)
  --timeout S            stop a script after S seconds with 503, 0 = never (default 10)
  --body-limit SIZE      url-encoded and JSON bodies (default 1mb)
  --upload-limit SIZE    multipart bodies (default 50mb)
  --listing              list folders that have no index file
  --trust-proxy          honour X-Forwarded-For/Proto/Host
  --quiet                no access log
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  production: { type: 'boolean' },
  'max-sessions': { type: 'string' },
  'session-ttl': { type: 'string' },
  'session-store': { type: 'string' },
  workers: { type: 'string' },
  timeout: { type: 'string' },
  'body-limit': { type: 'string' },
  'upload-limit': { type: 'string' },
  listing: { type: 'boolean' },
  'trust-proxy': { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  watch: { type: 'boolean' },
} as const;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Turns the parsed flags into server options; throws OptionError. */
export function toServerOptions(values: Record<string, string | boolean | undefined>, root: string | undefined): ServerOptions {
  const o = defaultOptions();
  if (root !== undefined) o.root = root;
  const str = (k: string): string | undefined => values[k] as string | undefined;
  if (str('port') !== undefined) o.port = parsePort(str('port')!);
  if (str('host') !== undefined) {
    if (!str('host')!.trim()) throw new OptionError('--host: an address is required');
    o.host = str('host')!;
  }
  if (values.production) o.production = true;
  if (str('max-sessions') !== undefined) o.maxSessions = parseInteger(str('max-sessions')!, '--max-sessions', 1);
  if (str('session-ttl') !== undefined) o.sessionTtl = parseInteger(str('session-ttl')!, '--session-ttl', 0);
  if (str('session-store') !== undefined) {
    const store = str('session-store')!;
    if (store !== 'memory' && !/^rediss?:\/\//.test(store)) throw new OptionError(`--session-store: ${JSON.stringify(store)} is neither "memory" nor a redis:// URL`);
    o.sessionStore = store;
  }
  if (str('workers') !== undefined) o.workers = parseInteger(str('workers')!, '--workers', 1, 256);
  if (str('timeout') !== undefined) o.timeout = parseSeconds(str('timeout')!, '--timeout');
  if (str('body-limit') !== undefined) o.bodyLimit = parseSize(str('body-limit')!, '--body-limit');
  if (str('upload-limit') !== undefined) o.uploadLimit = parseSize(str('upload-limit')!, '--upload-limit');
  if (values.listing) o.listing = true;
  if (values['trust-proxy']) o.trustProxy = true;
  if (values.quiet) o.quiet = true;
  if (o.workers > 1 && o.sessionStore === 'memory') {
    throw new OptionError('--workers > 1 needs a shared session store: add --session-store redis://host:port (with the memory store each process would have its own sessions)');
  }
  return o;
}

/** The arguments `main` was called with (a supervised child gets them again). */
let commandLine: string[] = [];
const argvOf = (): string[] => commandLine;

/** Runs the command line; resolves to the exit status for commands that end. */
export async function main(argv: string[]): Promise<number | undefined> {
  commandLine = argv;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return fatal(`${(err as Error).message.split('\n')[0]} (see karrigell-ts --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(HELP), 0;
  if (values.version) return void process.stdout.write(version() + '\n'), 0;
  const [command, arg, ...extra] = positionals;
  if (extra.length) return fatal(`unexpected argument ${JSON.stringify(extra[0])} (see karrigell-ts --help)`);
  switch (command) {
    case 'serve':
      return serve(values, arg);
    case 'init':
      return runInit(arg);
    case 'check':
      return runCheck(arg, values.watch === true);
    case undefined:
      process.stdout.write(HELP);
      return 0;
    default:
      return fatal(`unknown command ${JSON.stringify(command)} (commands: serve, init, check; see --help)`);
  }
}

async function serve(values: Record<string, string | boolean | undefined>, root: string | undefined): Promise<number | undefined> {
  let options: ServerOptions;
  try {
    options = toServerOptions(values, root);
    if (RUNTIME === 'deno' && options.workers > 1) throw new OptionError(`--workers: not available on ${RUNTIME_LABEL} (a node:cluster worker cannot start the worker threads the server needs there); run one process per port behind a load balancer`);
    if (options.workers > 1) return await runCluster(options);
    // Where a stuck script cannot be interrupted (Bun, Deno), a supervisor replaces the server process instead.
    if (!CAN_INTERRUPT_SCRIPTS && options.timeout > 0 && !process.env[SUPERVISED_ENV]) return await supervise(argvOf(), options.port, options.host);
    // A closed stdout or stderr (a pipe whose reader went away) must not become a loop of errors.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    const running = await createServer(options);
    process.stdout.write(bannerLine(options.root, running.url, options.production) + '\n');
    const stop = (): void => {
      void running.close(10_000).then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return undefined;
  } catch (err) {
    if (isStartFailure(err)) return fatal(err.message);
    throw err;
  }
}

function fatal(message: string): number {
  process.stderr.write(`karrigell-ts: ${message}\n`);
  return 1;
}
