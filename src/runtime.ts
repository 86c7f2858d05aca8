/**
 * Which JavaScript runtime runs the server, and what it can do (SPEC §11).
 * A leaf: imports nothing of ours.
 */
import process from 'node:process';

export type RuntimeName = 'node' | 'bun' | 'deno';

const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };

/** The runtime running this process. */
export const RUNTIME: RuntimeName = g.Bun ? 'bun' : g.Deno ? 'deno' : 'node';

/**
 * How a user runs the installed CLI on this runtime (init's next steps). `bunx`
 * alone follows the bin's `#!/usr/bin/env node` and runs it on Node whenever
 * Node is on the PATH: `--bun` keeps it on Bun.
 */
export const CLI_COMMAND = RUNTIME === 'bun' ? 'bunx --bun karrigell-ts' : RUNTIME === 'deno' ? 'deno run -A npm:karrigell-ts' : 'npx karrigell-ts';

/** e.g. `Bun 1.4.5`, `Deno 2.9.6`, `Node 22.23.5`. */
export const RUNTIME_LABEL = RUNTIME === 'bun' ? `Bun ${g.Bun!.version}` : RUNTIME === 'deno' ? `Deno ${g.Deno!.version.deno}` : `Node ${process.versions.node}`;

/**
 * Node stops a script stuck in a synchronous loop from the watchdog thread
 * through the inspector (`Runtime.terminateExecution`). Bun's and Deno's
 * inspectors cannot connect to the main thread from a worker, so there the
 * stuck process is replaced instead: `serve` runs under a primary that starts
 * a new one (cluster.ts), and the watchdog ends the stuck one.
 */
export const CAN_INTERRUPT_SCRIPTS = RUNTIME === 'node';
