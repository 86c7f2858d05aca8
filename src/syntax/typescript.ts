/**
 * The one place that loads the TypeScript compiler (for the TypeScript
 * worker's jobs, and for `karrigell-ts check`): once per isolate.
 *
 * In the TypeScript worker it is loaded with a V8 code cache kept in the
 * cache folder. Why: typescript.js is 9 MB of JavaScript; compiling it
 * allocates some 20 MB of parser memory outside the JS heap, which glibc
 * keeps in the worker thread's arena after it is freed (and after the worker
 * ends). From a code cache, the same load costs 11 MB of RSS instead of 32
 * (and no parse). A cache V8 rejects (another Node, other flags) or cannot
 * read is made again; one that cannot be written only costs that time.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import type ts from 'typescript';

let typescript: typeof ts | undefined;
/** Writes the code cache once the jobs have compiled the functions they use (set when there is none to use). */
let saveCache: (() => void) | undefined;

/** The compiler, loaded on first use: from a code cache in CACHE_DIR when given. */
export function loadTypescript(cacheDir?: string): typeof ts {
  if (typescript) return typescript;
  const require = createRequire(import.meta.url);
  if (cacheDir) {
    try {
      typescript = loadCached(require.resolve('typescript'), cacheDir);
    } catch {
      // Loaded as usual below: the cache only saves memory and time.
    }
  }
  typescript ??= require('typescript') as typeof ts;
  return typescript;
}

function loadCached(file: string, cacheDir: string): typeof ts {
  const source = fs.readFileSync(file, 'utf8');
  const st = fs.statSync(file);
  // V8 rejects a cache made by another V8 or under other flags (the server sets some as it runs,
  // heap.ts): the name holds the tag of both, so that each set of flags keeps its own file.
  const cacheFile = path.join(cacheDir, `typescript-${st.size}-${Math.trunc(st.mtimeMs)}-${v8.cachedDataVersionTag()}.v8cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // None yet.
  }
  // The wrapper of a CommonJS module, as require() runs it.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} as typeof ts };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
  if (!cachedData || script.cachedDataRejected) {
    saveCache = () => {
      try {
        fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
        const temp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temp, cacheFile); // whole or not at all, for a reader in another process
      } catch {
        // An unwritable cache folder: each start compiles TypeScript, as without a cache.
      }
    };
  }
  return module.exports;
}

/** Keeps the code cache if this load made none (called after a job, so that it holds the compiled functions). */
export function keepCodeCache(): void {
  const save = saveCache;
  saveCache = undefined;
  save?.();
}
