/** --production: every script compiled at start; a broken one stops the start (SPEC §8). */
import { compileBatch, compileFile, CompileError } from './compile.js';
import { relative } from './errors.js';
import type { ModuleRegistry } from './modules.js';
import { isPrivatePath, listScripts } from '../site.js';

/**
 * Compiles (and links) every page; files under `_` folders (helpers, included
 * scripts) are compiled to check them. Resolves to one line per failure.
 */
export async function precompile(root: string, registry: ModuleRegistry): Promise<string[]> {
  const failures: string[] = [];
  const files = listScripts(root);
  // One esbuild build for the whole site (1 000 files: well under a second, against one
  // round trip and one parse per file); the registry links the pages from its units.
  // When a file fails the batch gives nothing, and each file is compiled on its own
  // below, so that every failure is listed with its own file.
  const batch = await compileBatch(files.map((file) => ({ file, mode: isPrivatePath(root, file) ? 'module' : 'page' })));
  if (batch) registry.prime(batch);
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const isPrivate = isPrivatePath(root, file);
      try {
        if (isPrivate) {
          if (!batch) await compileFile(file, 'module');
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
  return [...new Set(failures)].sort();
}
