/**
 * A page cannot stop the server: `process.exit()`, `process.abort()`,
 * `process.reallyExit()` and `process.kill()` aimed at the server's own
 * process (or its supervising parent) throw an Error naming the script that
 * called them, when that script is a page or a site module. The request
 * answers 500 and the server goes on.
 *
 * Two layers, and neither costs a request anything:
 * 1. A compiled script that mentions `process` gets, bound once when it is
 *    linked (not per request), a view of `process` whose stopping methods
 *    refuse, naming the script. `import process from 'node:process'` and its
 *    named imports get the same view. This covers `process.exit()` and also
 *    `setTimeout(process.exit)`, where no frame of the script is on the stack.
 * 2. While a server runs, the real methods are wrapped, process-wide; only
 *    when one is called is the stack searched for a frame of a compiled site
 *    script (`globalThis.process.exit()`, a package called by a page). The
 *    server's own calls (SIGTERM, cluster workers) and those of an application
 *    embedding it have no such frame and go through.
 */
import { mapStack, relative } from './errors.js';
import type { CompiledUnit } from './compile.js';

/** What the guard needs of a module registry (not the registry's type: modules.ts imports this file). */
interface CompiledScripts {
  unitOf(file: string): CompiledUnit | undefined;
}

type Stopper = 'exit' | 'abort' | 'reallyExit' | 'kill';
const STOPPERS: readonly Stopper[] = ['exit', 'abort', 'reallyExit', 'kill'];
/** `process` seen as its stopping methods (`reallyExit` is undocumented, so not in @types/node). */
const stoppers = process as unknown as Record<Stopper, (...args: unknown[]) => unknown>;

/** The error a script gets for trying to stop the server. */
function refusal(what: string, script: string): Error {
  return new Error(`${what} is refused: a page cannot stop the server (called by ${script}). End the request with SCRIPT_END() or HTTP_ERROR(status) instead.`);
}

/** True when `process.kill(pid)` would signal this process, its process group or its parent (the supervising primary). */
function hitsServer(pid: unknown): boolean {
  const n = Number(pid);
  return n === process.pid || n === process.ppid || n === 0 || n === -process.pid || n === -1;
}

/** Refusing versions of the stopping methods, for the script `script`. */
function refusingMethods(script: string): Record<Stopper, (...args: unknown[]) => unknown> {
  const kill = original('kill');
  return {
    exit: () => {
      throw refusal('process.exit()', script);
    },
    abort: () => {
      throw refusal('process.abort()', script);
    },
    reallyExit: () => {
      throw refusal('process.reallyExit()', script);
    },
    kill: (pid: unknown, signal?: unknown) => {
      if (hitsServer(pid)) throw refusal(`process.kill(${String(pid)})`, script);
      return kill.call(process, pid, signal);
    },
  };
}

/** The view of `process` a script sees (layer 1): the real object, but its stopping methods refuse. */
export function processViewFor(script: string): NodeJS.Process {
  const methods = refusingMethods(script);
  return new Proxy(process, {
    get(target, key) {
      return Object.hasOwn(methods, key) ? methods[key as Stopper] : Reflect.get(target, key);
    },
  });
}

/** `node:process` as a script imports it: its default export and named stopping methods are the script's view. */
export function processModuleFor(namespace: Record<string, unknown>, script: string): Record<string, unknown> {
  const view = processViewFor(script);
  const module: Record<string, unknown> = { ...namespace, default: view };
  for (const name of STOPPERS) module[name] = (view as unknown as Record<Stopper, unknown>)[name];
  return module;
}

/** True for the specifiers that name Node's process module. */
export function isProcessModule(source: string): boolean {
  return source === 'node:process' || source === 'process';
}

/** The methods as they were before any server wrapped them. */
const originals = new Map<Stopper, (...args: unknown[]) => unknown>();
function original(name: Stopper): (...args: unknown[]) => unknown {
  return originals.get(name) ?? stoppers[name];
}

const sites: { root: string; registry: CompiledScripts }[] = [];

/** The site script on the current stack, if any (`root`-relative, with its line). */
function scriptOnStack(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const site of sites) {
    const { first } = mapStack(stack, site.root, site.registry.unitOf);
    if (first) return `${relative(site.root, first.file)}:${first.line}`;
  }
  return undefined;
}

/** Layer 2: wraps the real methods while at least one server runs; returns the function that removes this server. */
export function guardProcess(root: string, registry: CompiledScripts): () => void {
  const site = { root, registry };
  sites.push(site);
  if (sites.length === 1) {
    for (const name of STOPPERS) {
      const real = stoppers[name];
      originals.set(name, real);
      const guarded = function (this: unknown, ...args: unknown[]): unknown {
        if (name !== 'kill' || hitsServer(args[0])) {
          const script = scriptOnStack();
          if (script) throw refusal(name === 'kill' ? `process.kill(${String(args[0])})` : `process.${name}()`, script);
        }
        return real.apply(this, args);
      };
      stoppers[name] = guarded;
    }
  }
  return () => {
    const at = sites.indexOf(site);
    if (at < 0) return;
    sites.splice(at, 1);
    if (sites.length === 0) {
      for (const [name, real] of originals) stoppers[name] = real;
      originals.clear();
    }
  };
}
