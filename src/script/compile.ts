/**
 * Compiles a page script or a user module with esbuild into a function made by
 * `vm.compileFunction` (which, unlike `import()`, `new Function` or `vm.Script`,
 * lets old versions be garbage-collected across edits).
 *
 * esbuild bundles the one file with every import marked external, so its
 * output is normalised: the imports stand at the top, the exports in one
 * `export { … }` clause at the end. We turn the imports into bindings of
 * already-loaded modules and the export clause into a `return`.
 */
import path from 'node:path';
import fs from 'node:fs';
import vm from 'node:vm';
import type * as esbuild from 'esbuild';
import { tspToTs } from '../syntax/tsp.js';
import { PACKAGE_DIR } from '../site.js';
import { isShortcutName, SCOPE_NAMES } from '../scope-names.js';
import { printTopLevelJsxOffThread } from '../syntax/tsx-statements.js';
import { releaseTsWorker } from '../syntax/ts-worker.js';
import { MODULE_DEFINES, MODULE_NAMES, shortcutDefine } from './request-names.js';

const SCOPE_SET: ReadonlySet<string> = new Set(SCOPE_NAMES);
/** See makeFactory: the context extension that keeps compiled code out of V8's compilation cache (frozen: nothing can add a name to it). */
const NO_EXTENSION = Object.freeze(Object.create(null) as object);

/** A page runs once per request with the request's scope; a module is evaluated once and shared. */
type Mode = 'page' | 'module';

/** One import of the compiled code: the resolved module and how its bindings are named. */
export interface ImportSpec {
  /** Absolute path of a file, or a built-in such as `node:fs`. */
  source: string;
  /** `export * from` of that module. */
  reexportAll: boolean;
}

/** What a unit's code returns: a module's namespace; a page's exported functions, nothing when it has none. */
export type Exports = Record<string, unknown> | undefined;

export interface CompiledUnit {
  file: string;
  mode: Mode;
  imports: ImportSpec[];
  exportNames: string[];
  /** `(imports, meta, process) => run`; for a page `run(scope)` (returns the exports, or their promise when the page has top-level await), for a module `run()`. `process` is what the script's own `process` names (the view that cannot stop the server). */
  factory: (imports: unknown[], meta: ImportMetaLike, process: unknown) => (scope?: unknown) => Exports | Promise<Exports>;
  /** esbuild's source map (version 3 JSON) of the generated code. */
  map: SourceMapJson;
  /** Length of the wrapper text in front of generated line 1. */
  lineOneOffset: number;
  /** esbuild's output with imports removed and exports turned into a `return`. */
  code: string;
  /** Import bindings and helpers, in front of everything. */
  head: string;
  /** Identifiers the code mentions (pages): which scope names to bind. */
  used: ReadonlySet<string>;
  /** Names bound by imports: they win over scope names. */
  bound: ReadonlySet<string>;
  /** A module that uses the names of a page's scope (request-names.ts): pages must run in the request storage. */
  requestNames: boolean;
}

export interface ImportMetaLike {
  url: string;
  filename: string;
  dirname: string;
  /** Vite's convention (SPEC §4, Module lifecycle): `import.meta.hot?.dispose(fn)`. */
  hot: { dispose(fn: () => unknown): void };
}

export interface SourceMapJson {
  version: number;
  sources: string[];
  mappings: string;
  names: string[];
  sourcesContent?: string[];
}

/** A compile error located in the TypeScript source. */
export class CompileError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly errors: { message: string; file: string; line: number; column: number }[],
  ) {
    super(message);
    this.name = 'CompileError';
  }
}

/** The karrigell-ts package folder. */
const OWN_MODULES: Record<string, string> = {
  'karrigell-ts': path.join(PACKAGE_DIR, 'dist', 'index.js'),
  'karrigell-ts/jsx-runtime': path.join(PACKAGE_DIR, 'dist', 'jsx-runtime.js'),
  'karrigell-ts/jsx-dev-runtime': path.join(PACKAGE_DIR, 'dist', 'jsx-runtime.js'),
};

/** True for modules that Node loads itself (built-ins, packages, our own dist): evaluated once, never recompiled. */
export function isNativeModule(source: string): boolean {
  if (!path.isAbsolute(source)) return true;
  if (source.split(path.sep).includes('node_modules')) return true;
  if (source.startsWith(PACKAGE_DIR + path.sep + 'dist' + path.sep)) return true;
  return !/\.(?:[cm]?tsx?|jsx?|mjs|tsp|json)$/.test(source) || source.endsWith('.cjs') || source.endsWith('.cts');
}

const SKIP = Symbol('karrigell-ts.resolve');

/** Files we load ourselves (only the entry is ever loaded: every import is external), with their esbuild loader. */
const SOURCE_RE = /\.(?:m?ts|tsx|m?js|jsx)$/;
const LOADERS: Record<string, esbuild.Loader> = { '.ts': 'ts', '.mts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.jsx': 'jsx' };

/**
 * Pages and site modules are ES modules whatever the project's package.json
 * says (SPEC §3). esbuild takes a file of a `"type": "commonjs"` package that
 * has no `export` for CommonJS and wraps it (`export default require_x()`);
 * an empty export clause at the end makes it ESM and adds no code. (Resolving
 * the entry ourselves would also skip the package type, but it skips the
 * site's tsconfig.json too.)
 */
function asEsm(text: string): string {
  return text + '\nexport {};\n';
}

/**
 * esbuild's plugin: every import external (resolved by esbuild to an absolute
 * path), `.tsp` turned into TypeScript, and (pages) the top-level JSX
 * statements of the `.tsx` entries printed. Only entries are ever loaded (every
 * import is external). One plugin a build: within a build, an import is
 * resolved once per folder and specifier (700 pages importing
 * `../_lib/shared.ts` from one folder ask esbuild once, not 700 times).
 */
function externalsPlugin(entries: ReadonlySet<string>, mode: Mode): esbuild.Plugin {
  const resolved = new Map<string, Promise<esbuild.OnResolveResult>>();
  return {
    name: 'karrigell-ts',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || args.pluginData === SKIP) return undefined;
        const own = OWN_MODULES[args.path];
        if (own) return { path: own, external: true };
        const key = `${args.kind}\0${args.resolveDir}\0${args.path}`;
        let result = resolved.get(key);
        if (!result) {
          result = build
            .resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SKIP })
            .then((r) => (r.errors.length ? { errors: r.errors } : { path: r.path, external: true }));
          resolved.set(key, result);
        }
        return result;
      });
      // Read synchronously: an async read is four trips through libuv's pool (open, stat, read,
      // close) for a file of a few KB, a quarter of a second over a 1 000-file start.
      build.onLoad({ filter: /\.tsp$/ }, async (args) => {
        const text = fs.readFileSync(args.path, 'utf8');
        try {
          return { contents: asEsm(tspToTs(text, args.path)), loader: 'ts' };
        } catch (err) {
          const e = err as Error & { line?: number; column?: number };
          return { errors: [{ text: e.message, location: { file: args.path, line: e.line ?? 1, column: (e.column ?? 1) - 1 } }] };
        }
      });
      build.onLoad({ filter: SOURCE_RE }, async (args) => {
        let text = fs.readFileSync(args.path, 'utf8');
        const loader = LOADERS[path.extname(args.path)] ?? 'ts';
        if (mode === 'page' && loader === 'tsx' && entries.has(args.path)) text = await printTopLevelJsxOffThread(text, args.path);
        return { contents: asEsm(text), loader };
      });
    },
  };
}

/**
 * esbuild's API, loaded on the first compile only: a production server whose
 * site was compiled by a child process (precompile.ts) never loads it (its
 * module alone is ~10 MB of the process's memory).
 */
let esbuildApi: Promise<typeof esbuild> | undefined;
const loadEsbuild = (): Promise<typeof esbuild> => (esbuildApi ??= import('esbuild'));

/** esbuild builds run by this process (for tests and diagnostics: a batch is one build, or two for modules with `_name` shortcuts). */
let builds = 0;

/** How many esbuild builds this process has run. */
export function buildCount(): number {
  return builds;
}

/** Compiles in flight in this process (every server of a process shares esbuild's service and the `.tsx` worker). */
let building = 0;

/**
 * Stops what compiles, esbuild's service process and the `.tsx` pass's
 * worker, unless a compile is running; the next compile starts them again.
 * Production calls it after the start and after any later compile (an
 * `Include` of a script first needed at run time), so that nothing of the
 * compiler stays beside a serving process.
 */
export async function releaseCompiler(): Promise<void> {
  if (building) return;
  await Promise.all([esbuildApi?.then((api) => api.stop()), releaseTsWorker()]);
}

/** Compiles `file` (absolute). Throws CompileError. */
export async function compileFile(file: string, mode: Mode): Promise<CompiledUnit> {
  building++;
  try {
    return toUnit(mode, (await compileOutputs([file], mode))[0]!);
  } finally {
    building--;
  }
}

/** What a compile of one file gives before it is made into a unit: plain data, which a child process can send (precompile.ts). */
export interface CompiledOutput {
  file: string;
  /** esbuild's output. */
  js: string;
  /** Its source map, `sources` naming the file. */
  map: SourceMapJson;
}

/**
 * Compiles many files of one mode in one esbuild build (the production start:
 * esbuild parses them in parallel, one round trip and one resolution per
 * folder and import instead of one build per file). Each unit is what
 * `compileFile` gives for its file: both go through `compileOutputs` and
 * `toUnit`. Files that fail are left out (a failed build is retried without
 * the files its errors name), so the caller compiles those with
 * `compileFile`, which reports each failure with its own file.
 */
export async function compileBatch(files: readonly string[], mode: Mode): Promise<Map<string, CompiledUnit>> {
  return unitsOf(await compileBatchOutputs(files, mode), mode);
}

/** The outputs of compileBatch, before they are made into units (what precompile's child process sends). */
export async function compileBatchOutputs(files: readonly string[], mode: Mode): Promise<CompiledOutput[]> {
  let left = [...new Set(files)];
  building++;
  try {
    // Each retry drops at least one file; a few broken files cost a few builds, more fall back to one build a file.
    for (let attempt = 0; attempt < 4 && left.length; attempt++) {
      try {
        return await compileOutputs(left, mode);
      } catch (err) {
        const named = new Set(err instanceof CompileError ? err.errors.map((e) => e.file) : []);
        const rest = left.filter((f) => !named.has(f));
        if (rest.length === left.length) return [];
        left = rest;
      }
    }
    return [];
  } finally {
    building--;
  }
}

/** Units of a batch's outputs, by file; an output that cannot be made into a unit is left out (compileFile then reports it). */
export function unitsOf(outputs: readonly CompiledOutput[], mode: Mode): Map<string, CompiledUnit> {
  const units = new Map<string, CompiledUnit>();
  for (const output of outputs) {
    try {
      units.set(output.file, toUnit(mode, output));
    } catch {
      // left for compileFile
    }
  }
  return units;
}

/**
 * The one way files are compiled, alone or in a batch: esbuild's output for
 * each file, in the order of `files`. Throws CompileError (the build's
 * errors, located in the user's files).
 */
async function compileOutputs(files: readonly string[], mode: Mode): Promise<CompiledOutput[]> {
  const define: Record<string, string> = { 'import.meta': '__kts_meta' };
  // A module's scope names read the request in progress (request-names.ts); a page gets them as bindings.
  if (mode === 'module') Object.assign(define, MODULE_DEFINES);
  const outputs = await build(files, mode, define);
  if (mode === 'module') {
    // `_name` shortcuts: esbuild replaces only free identifiers, so a second build with a define for
    // each candidate the output mentions turns the free ones into QUERY reads (locals stay locals).
    // Files with the same candidates share that build, so each gets exactly its own defines.
    const groups = new Map<string, { shortcuts: Record<string, string>; indices: number[] }>();
    outputs.forEach((output, i) => {
      const shortcuts: Record<string, string> = {};
      // Not after `/`: the paths of the output's first-line comment and of its imports (`…/_lib/db.ts`) are no candidates.
      for (const [name] of output.js.matchAll(/(?<![\w$./])_[\w$]+/g)) {
        const target = shortcutDefine(name);
        if (target && !(name in define)) shortcuts[name] = target;
      }
      const key = Object.keys(shortcuts).sort().join(',');
      if (!key) return;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { shortcuts, indices: [] }));
      group.indices.push(i);
    });
    for (const { shortcuts, indices } of groups.values()) {
      const again = await build(indices.map((i) => files[i]!), mode, { ...define, ...shortcuts });
      indices.forEach((i, j) => (outputs[i] = again[j]!));
    }
  }
  return outputs;
}

/** The build of `files` (absolute, one mode): each file's code and source map, in the order of `files`. */
async function build(files: readonly string[], mode: Mode, define: Record<string, string>): Promise<CompiledOutput[]> {
  // Entry i is written (in memory) to `i/<name>.js`: names never collide (`a.ts` beside `a.tsp`),
  // and the output is the same as a build of the file alone (its `//# sourceMappingURL=<name>.js.map`
  // included); the imports are absolute paths, whatever the folder.
  const outdir = path.dirname(files[0]!);
  const outs = files.map((file, i) => `${i}/${path.basename(file).replace(/\.[^.]*$/, '')}`);
  const api = await loadEsbuild();
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  builds++;
  try {
    result = await api.build({
      entryPoints: files.map((file, i) => ({ in: file, out: outs[i]! })),
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'external',
      sourcesContent: false,
      outdir,
      logLevel: 'silent',
      jsx: 'automatic',
      jsxImportSource: 'karrigell-ts',
      charset: 'utf8',
      define,
      loader: { '.tsp': 'ts' },
      resolveExtensions: ['.ts', '.tsx', '.mts', '.js', '.mjs', '.jsx', '.json', '.tsp'],
      plugins: [externalsPlugin(new Set(files), mode)],
    });
  } catch (err) {
    throw toCompileError(err, files[0]!);
  }
  // Outputs found through a map: a search per entry would be quadratic over thousands of files.
  const byPath = new Map(result.outputFiles.map((f) => [f.path, f]));
  return outs.map((out, i) => {
    const base = path.join(outdir, out);
    const map = JSON.parse(byPath.get(base + '.js.map')!.text) as SourceMapJson;
    map.sources = [files[i]!];
    return { file: files[i]!, js: byPath.get(base + '.js')!.text, map };
  });
}

const IMPORT_RE = /^(?:import\s+(?:(.+?)\s+from\s*)?|export\s*\*\s*from\s*)("(?:[^"\\\n]|\\.)*");[ \t]*$/gm;

function toUnit(mode: Mode, { file, js, map }: CompiledOutput): CompiledUnit {
  const imports: ImportSpec[] = [];
  const declarations: string[] = [];
  const bound = new Set<string>();
  let code = js.replace(IMPORT_RE, (stmt, clause: string | undefined, spec: string) => {
    const index = imports.length;
    const reexportAll = stmt.startsWith('export');
    imports.push({ source: JSON.parse(spec) as string, reexportAll });
    if (clause) declarations.push(...toBindings(clause, index, bound));
    return '';
  });
  const exportNames: string[] = [];
  const pairs: string[] = [];
  code = code.replace(/^export\s*\{([^}]*)\};?\s*$/m, (block, body: string) => {
    for (const item of body.split(',')) {
      const [local, exported = local] = item.trim().split(/\s+as\s+/) as [string, string?];
      if (!local) continue;
      exportNames.push(exported!);
      pairs.push(mode === 'module' ? `get ${JSON.stringify(exported)}(){return ${local}}` : `${JSON.stringify(exported)}:${local}`);
    }
    return `return {${reexports(imports)}${pairs.join(',')}};` + '\n'.repeat(block.split('\n').length - 1);
  });
  // A page without exports returns nothing (no object made on every request); a module returns its namespace.
  const again = reexports(imports);
  if (!pairs.length && (mode === 'module' || again)) code += `\nreturn {${again}};`;
  if (/^\s*export\s/m.test(code)) {
    throw new CompileError(`unsupported export form in ${file}`, file, 1, 1, []);
  }

  // A script that names `process` gets the view its linker passes (bound once per link, no cost per request).
  const ownProcess = !bound.has('process') && /\bprocess\b/.test(code) ? 'const process=__kts_process;' : '';
  const head = '"use strict";' + declarations.join('') + ownProcess + (imports.some((i) => i.reexportAll) ? REEXPORT_HELPER : '');
  const used = mode === 'page' ? new Set(code.match(/[A-Za-z_$][\w$]*/g) ?? []) : new Set<string>();
  const requestNames = mode === 'module' && code.includes('__kts_r.');
  const unit = { file, mode, imports, exportNames, map, lineOneOffset: 0, code, head, used, bound, requestNames } as Omit<CompiledUnit, 'factory'> as CompiledUnit;
  unit.factory = makeFactory(unit, []);
  return unit;
}

/**
 * Compiles the unit's wrapper: imports bound once, then (pages) a function
 * of the request's scope that destructures the names the code uses, plus
 * `extraNames` (the names an `Include` passes).
 */
export function makeFactory(unit: CompiledUnit, extraNames: readonly string[]): CompiledUnit['factory'] {
  const { used, bound, code } = unit;
  const declare = (): string => {
    const names = [...used].filter((n) => (SCOPE_SET.has(n) || extraNames.includes(n)) && !bound.has(n));
    const shortcuts = [...used].filter(
      (n) => isShortcutName(n) && !SCOPE_SET.has(n) && !bound.has(n) && !extraNames.includes(n),
    );
    let text = '';
    if (names.length) text += `const {${names.join(',')}}=__kts_s;`;
    if (shortcuts.length) text += `let ${shortcuts.map((n) => `${n}=__kts_s.QUERY[${JSON.stringify(n.slice(1))}]`).join(',')};`;
    return text;
  };
  // A page without top-level await runs synchronously (no promise per request); the
  // compiler tells us which: the sync wrapper is a syntax error when there is one.
  const variants =
    unit.mode === 'page'
      ? [
          [`return function(__kts_s){${declare()}return (()=>{`, '\n})()}'],
          [`return function(__kts_s){${declare()}return (async()=>{`, '\n})()}'],
        ]
      : [['return async function(){', '\n}']];
  let lastError: unknown;
  for (const [open, close] of variants) {
    const prefix = unit.head + open;
    const generated = prefix + code + close;
    try {
      // The wrapper sits in front of line 1, which esbuild fills with a `// file` comment: line numbers are unchanged.
      const compiled = vm.compileFunction(generated, ['__kts_imports', '__kts_meta', '__kts_process', '__kts_r'], {
        filename: unit.file,
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
        // An (empty) context extension keeps the code out of V8's compilation cache. From
        // Node 22 on, compileFunction puts every source there and the cache keeps it until the
        // heap nears its limit: each edit's old version (source and literals) stayed, +20 MB
        // over 800 edits (test/live-memory.test.ts). With an extension V8 neither looks up nor
        // stores; an empty object without prototype changes no name lookup.
        contextExtensions: [NO_EXTENSION],
      } as vm.CompileFunctionOptions) as unknown as (imports: unknown[], meta: ImportMetaLike, process: unknown, names: unknown) => ReturnType<CompiledUnit['factory']>;
      unit.lineOneOffset = prefix.length;
      return (imports, meta, process) => compiled(imports, meta, process, MODULE_NAMES);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

let reportedOffset: number | undefined;

/**
 * How many lines a stack trace counts before the first line of the code given to
 * vm.compileFunction: 0 on Node and Deno, 1 on Bun, whose compileFunction puts a
 * line of its own wrapper in front (a page's `throw` on line 3 was reported on
 * line 4). Measured once, with a function that throws.
 */
export function reportedLineOffset(): number {
  if (reportedOffset !== undefined) return reportedOffset;
  reportedOffset = 0;
  try {
    vm.compileFunction('throw new Error()', [], { filename: 'kts-line-probe' })();
  } catch (err) {
    const m = /kts-line-probe:(\d+):\d+/.exec(String((err as Error)?.stack));
    if (m) reportedOffset = Number(m[1]) - 1;
  }
  return reportedOffset;
}

function reexports(imports: ImportSpec[]): string {
  return imports.map((imp, i) => (imp.reexportAll ? `...__kts_reexport(__kts_imports[${i}]),` : '')).join('');
}

const REEXPORT_HELPER = 'const __kts_reexport=(m)=>{const o={};for(const k in m)if(k!=="default")o[k]=m[k];return o};';

/** `a, { b as c }` → declarations binding names of `__kts_imports[index]`. */
function toBindings(clause: string, index: number, bound: Set<string>): string[] {
  const src = `__kts_imports[${index}]`;
  const out: string[] = [];
  let rest = clause.trim();
  const ns = /^(?:([\w$]+)\s*,\s*)?\*\s*as\s+([\w$]+)$/.exec(rest);
  if (ns) {
    if (ns[1]) out.push(`const ${ns[1]}=${src}.default;`), bound.add(ns[1]);
    out.push(`const ${ns[2]}=${src};`);
    bound.add(ns[2]!);
    return out;
  }
  const def = /^([\w$]+)\s*(?:,|$)/.exec(rest);
  if (def && !rest.startsWith('{')) {
    out.push(`const ${def[1]}=${src}.default;`);
    bound.add(def[1]!);
    rest = rest.slice(def[0].length).trim();
  }
  if (rest.startsWith('{')) {
    const items = rest.slice(1, rest.lastIndexOf('}')).split(',').map((s) => s.trim()).filter(Boolean);
    const parts = items.map((item) => {
      const [imported, local = imported] = item.split(/\s+as\s+/) as [string, string?];
      bound.add(local!);
      return imported === local ? local : `${imported}:${local}`;
    });
    if (parts.length) out.push(`const {${parts.join(',')}}=${src};`);
  }
  return out;
}

function toCompileError(err: unknown, file: string): CompileError {
  const failure = err as esbuild.BuildFailure;
  if (!Array.isArray(failure?.errors)) return new CompileError(String((err as Error)?.message ?? err), file, 1, 1, []);
  const errors = failure.errors.map((e) => ({
    message: e.text,
    file: e.location?.file ? path.resolve(e.location.file) : file,
    line: e.location?.line ?? 1,
    column: (e.location?.column ?? 0) + 1,
  }));
  const first = errors[0] ?? { message: 'compile error', file, line: 1, column: 1 };
  return new CompileError(first.message, first.file, first.line, first.column, errors);
}
