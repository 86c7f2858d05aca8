/** --production: every script compiled at start; a broken one stops the start (SPEC §8). */
import { fork } from 'node:child_process';
import { compileBatch, compileFile, CompileError, unitsOf, type CompiledOutput, type CompiledUnit } from './compile.js';
import { relative } from './errors.js';
import type { ModuleRegistry } from './modules.js';
import { isPrivatePath, listScripts } from '../site.js';
import { RUNTIME } from '../runtime.js';

/**
 * Compiles (and links) every page; files under `_` folders (helpers, included
 * scripts) are compiled to check them. Resolves to one line per failure.
 */
export async function precompile(root: string, registry: ModuleRegistry): Promise<string[]> {
  const failures: string[] = [];
  const files = listScripts(root);
  const privates = new Set(files.filter((file) => isPrivatePath(root, file)));
  const pages = files.filter((file) => !privates.has(file));
  // One esbuild build for the pages and one for the private files (a page and a module are
  // compiled with different defines): 1 000 files in well under a second, against a build
  // per file. The registry then links the pages from these units, and their imports of
  // private modules from the second build. A file that fails is left out of its batch and
  // compiled on its own below, so that each failure is listed with its own file.
  const [pageUnits, moduleUnits] = await compileSite(pages, [...privates]);
  const forget = registry.prime([...pageUnits.values(), ...moduleUnits.values()]);
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      try {
        if (privates.has(file)) {
          if (!moduleUnits.has(file)) await compileFile(file, 'module');
        } else await registry.loadPage(file);
      } catch (err) {
        if (err instanceof CompileError && err.errors.length) {
          for (const e of err.errors) failures.push(`${relative(root, e.file)}:${e.line}:${e.column}: ${e.message}`);
        } else {
          failures.push(`${relative(root, file)}: ${(err as Error)?.message ?? String(err)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  // Private files that no page imports (an included script is compiled as a page when first included).
  forget();
  return [...new Set(failures)].sort();
}

/**
 * The batches of the site: compiled by a child process (compile-child.ts) on
 * Node, so that the serving process never loads esbuild nor TypeScript (the
 * `.tsx` pass) and keeps only what serving needs; here, the same functions
 * in this process, where the child cannot be had (Bun, Deno, or it failed).
 */
async function compileSite(pages: string[], privates: string[]): Promise<[Map<string, CompiledUnit>, Map<string, CompiledUnit>]> {
  if (!pages.length && !privates.length) return [new Map(), new Map()];
  const outputs = RUNTIME === 'node' ? await compileInChild(pages, privates).catch(() => undefined) : undefined;
  if (outputs) return [unitsOf(outputs.pages, 'page'), unitsOf(outputs.modules, 'module')];
  return Promise.all([compileBatch(pages, 'page'), compileBatch(privates, 'module')]);
}

/** Forks compile-child.js; resolves with its outputs once it has exited. */
function compileInChild(pages: string[], privates: string[]): Promise<{ pages: CompiledOutput[]; modules: CompiledOutput[] }> {
  return new Promise((resolve, reject) => {
    // No execArgv: the server's own flags (a test runner's loader, an inspector port) are not the compiler's.
    const child = fork(new URL('./compile-child.js', import.meta.url), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], serialization: 'advanced' });
    let result: { pages: CompiledOutput[]; modules: CompiledOutput[] } | undefined;
    child.once('message', (msg) => {
      result = msg as typeof result;
      // It exits by itself once the message is out; one that lingers (a thread that does not end) is ended.
      setTimeout(() => child.kill(), 5000).unref();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => (result ? resolve(result) : reject(new Error(`the compiler process exited (${signal ?? code})`))));
    child.send({ pages, privates });
  });
}
