/** The command line (SPEC §1): serve, init, check, --help, --version. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import fs from 'node:fs';
import { createServer } from '../server.js';
import { runCluster } from './cluster.js';
import { CAN_INTERRUPT_SCRIPTS, RUNTIME, RUNTIME_LABEL } from '../runtime.js';
import { supervise, SUPERVISED_ENV } from './supervise.js';
import { bannerLine } from '../log.js';
import { runInit } from './init.js';
import { runCheck } from './check.js';
import { isStartFailure, OptionError, type ServerOptions } from '../options.js';
import { SERVE_OPTIONS, serveOptionsHelp, toServerOptions } from './serve-options.js';

const HELP = `karrigell-ts — drop a TypeScript script in a folder, open its URL.

Usage:
  karrigell-ts serve [ROOT=www] [options]   serve the site in ROOT
  karrigell-ts init [DIR=www]               create a ready site (never overwrites a file)
  karrigell-ts check [ROOT=www] [--watch]   type-check every script in ROOT
  karrigell-ts --help | --version

Options of serve:
${serveOptionsHelp()}
`;

const OPTIONS = {
  ...Object.fromEntries(Object.entries(SERVE_OPTIONS).map(([flag, spec]) => [flag, spec.multiple ? { type: spec.type, multiple: true } : { type: spec.type }])),
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  watch: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
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

async function serve(values: Record<string, string | boolean | string[] | undefined>, root: string | undefined): Promise<number | undefined> {
  let options: ServerOptions;
  try {
    options = toServerOptions(values, root);
    // Deno: a node:cluster worker cannot start the worker threads the server needs (the .tsx pass, the watchdog).
    if (RUNTIME === 'deno' && options.workers > 1) throw new OptionError(`--workers: not available on ${RUNTIME_LABEL} (a node:cluster worker cannot start the worker threads the server needs there); run one process per port behind a load balancer`);
    // Production runs under a primary process even with one worker: the primary keeps the port while SIGHUP
    // replaces the workers (zero-downtime reload, SPEC §8) and replaces a worker that dies (a page out of memory …).
    // --workers 0 opts out: one process, no primary.
    if (options.workers > 1 || (options.production && options.workers >= 1 && RUNTIME !== 'deno')) return await runCluster(options);
    // Where a stuck script cannot be interrupted (Bun, Deno), a supervisor replaces the server process instead.
    if (!CAN_INTERRUPT_SCRIPTS && options.workers !== 0 && !process.env[SUPERVISED_ENV]) return await supervise(argvOf(), options.port, options.host, options.production);
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
