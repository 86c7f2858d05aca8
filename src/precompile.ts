/** --production: every script compiled at start; a broken one stops the start (SPEC §8). */
import fs from 'node:fs';
import path from 'node:path';
import { compileFile, CompileError } from './compile.js';
import { isScriptFile } from './resolve.js';
import { relative } from './errors.js';
import type { ModuleRegistry } from './modules.js';

/** Every script file under `root` (skipping dot-folders and node_modules). */
export function listScripts(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && isScriptFile(entry.name)) found.push(full);
    }
  };
  walk(root);
  return found.sort();
}

/**
 * Compiles (and links) every page; files under `_` folders (helpers, included
 * scripts) are compiled to check them. Resolves to one line per failure.
 */
export async function precompile(root: string, registry: ModuleRegistry): Promise<string[]> {
  const failures: string[] = [];
  const files = listScripts(root);
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const isPrivate = relative(root, file).split('/').some((seg) => seg.startsWith('_'));
      try {
        if (isPrivate) await compileFile(file, 'module');
        else await registry.loadPage(file);
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
