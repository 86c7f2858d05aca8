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
 *
 * The source it compiles is a minified copy of typescript.js, made once per
 * TypeScript version with esbuild and kept in the same folder: V8 keeps a
 * script's source in the heap for the isolate's life (it compiles functions
 * lazily from it), and two thirds of typescript.js are comments, whitespace
 * and long names: 9.1 MB of the worker's heap became 3.6 MB (demo site
 * visited: −4 to −5 MB of RSS on Node 20 to 24). Its diagnostics are
 * TypeScript's own (the same on the demo site and the tests' sites); only
 * the names in a stack trace of TypeScript's own crash are minified.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import type ts from 'typescript';

let typescript: typeof ts | undefined;
/** How this isolate's TypeScript was loaded: from a code cache, making one, or plainly (no cache folder, or it failed). */
let loadedBy: 'cache' | 'new cache' | 'require' | undefined;
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
  loadedBy ??= typescript ? (saveCache ? 'new cache' : 'cache') : 'require';
  typescript ??= require('typescript') as typeof ts;
  return typescript;
}

/** How TypeScript was loaded here (tests, the memory bench): undefined before it was. */
export function typescriptLoad(): typeof loadedBy {
  return loadedBy;
}

/** A cache file unused this long is removed when another is written (one is about 3 MB). */
const UNUSED_DAYS = 30;

/** TypeScript's source, minified once into CACHE_DIR (see above); the file as it is when that cannot be done. */
function minifiedSource(file: string, version: string, cacheDir: string): { source: string; filename: string } {
  const minFile = path.join(cacheDir, `typescript-${version}-${fs.statSync(file).size}.min.js`);
  try {
    const source = fs.readFileSync(minFile, 'utf8');
    touch(minFile);
    return { source, filename: minFile };
  } catch {
    // None yet: made below.
  }
  const original = fs.readFileSync(file, 'utf8');
  try {
    // esbuild is the server's compiler; loaded here only to make this copy (never by `karrigell-ts check`).
    // Its sync API would run in a worker thread of its own: one more isolate, whose start resets
    // a V8 flag of the process (heap.ts) under this load, so the code cache made below would be
    // made under other flags than the next start's. The binary, called directly, starts none.
    // (This thread's process.env is its own copy: the server's esbuild is unaffected.)
    if (!isMainThread) process.env.ESBUILD_WORKER_THREADS = '0';
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const { code } = esbuild.transformSync(original, { minify: true, legalComments: 'none', format: 'cjs', platform: 'node' });
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const temp = `${minFile}.${process.pid}.tmp`;
    fs.writeFileSync(temp, code, { mode: 0o600 });
    fs.renameSync(temp, minFile); // whole or not at all, for a reader in another process
    return { source: code, filename: minFile };
  } catch {
    // No esbuild here, or an unwritable folder: the file as it is (minifying at each start would cost more than it saves).
    return { source: original, filename: file };
  }
}

function touch(file: string): void {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now); // in use: not removed as unused
  } catch {
    // A read-only cache folder still serves.
  }
}

function loadCached(file: string, cacheDir: string): typeof ts {
  const { version } = JSON.parse(fs.readFileSync(path.join(path.dirname(file), '..', 'package.json'), 'utf8')) as { version: string };
  const { source, filename } = minifiedSource(file, version, cacheDir);
  // V8 rejects a cache made from another source, by another V8 or under other flags (the server
  // sets some as it runs, heap.ts): the name holds the version and V8's tag of all three, so that
  // each combination keeps its own file and none overwrites another's in turn.
  const cacheFile = path.join(cacheDir, `typescript-${version}-${source.length}-${v8.cachedDataVersionTag()}.v8cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // None yet.
  }
  // The wrapper of a CommonJS module, as require() runs it.
  let script: vm.Script;
  try {
    script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename, cachedData });
  } catch (err) {
    // A damaged minified copy: removed (the next start makes another); TypeScript is loaded as usual meanwhile.
    if (filename !== file) fs.rmSync(filename, { force: true });
    throw err;
  }
  const module = { exports: {} as typeof ts };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
  if (cachedData && !script.cachedDataRejected) {
    touch(cacheFile);
  } else {
    saveCache = () => {
      try {
        fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
        const temp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temp, cacheFile); // whole or not at all, for a reader in another process
        const old = Date.now() - UNUSED_DAYS * 86_400_000;
        for (const name of fs.readdirSync(cacheDir)) {
          const other = path.join(cacheDir, name);
          if (name.startsWith('typescript-') && /\.(v8cache|min\.js)$/.test(name) && fs.statSync(other).mtimeMs < old) fs.rmSync(other, { force: true });
        }
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
