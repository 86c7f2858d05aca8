/**
 * The module registry: loads what page scripts import and links compiled pages.
 * User modules (TypeScript/JavaScript files outside node_modules) are compiled
 * by us, evaluated once and shared between requests until a file they depend
 * on changes; built-ins and packages are loaded by Node itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { outsideAnyRequest } from './request-names.js';
import { isPrivatePath, isScriptFile, relativePath } from '../site.js';
import { compileBatch, compileFile, releaseCompiler, CompileError, isNativeModule, makeFactory, type CompiledUnit, type Exports, type ImportMetaLike } from './compile.js';
import { isProcessModule, processModuleFor, processViewFor } from './process-guard.js';

/** A page ready to run: `run(scope)` executes its top-level code for one request. */
export interface LinkedPage {
  unit: CompiledUnit;
  run: (scope: unknown) => Exports | Promise<Exports>;
  /** `run` for a scope that also holds `names` (an Include's names). */
  runWith(names: readonly string[]): LinkedPage["run"];
  /** Exported names other than `default`: the page is a service. */
  services: ReadonlySet<string>;
  /** User files this page depends on (itself included), for live reload. */
  files: ReadonlySet<string>;
  /** True once some module of the registry uses the names of a page's scope: pages run in the request storage (request-names.ts). */
  readonly requestNames: boolean;
}

export interface ModuleRegistry {
  /** The linked page for `file`, compiled if needed; rejects with CompileError or a module's error. */
  loadPage(file: string, mtimeMs?: number): Promise<LinkedPage>;
  /** The page for `file` if it is compiled and linked already (no promise to wait for). */
  readyPage(file: string): LinkedPage | undefined;
  /**
   * Forgets `file` and everything that depends on it; returns the pages forgotten.
   * `edited`: the file was only edited (it still exists; no file came or went), so
   * what imports it compiles to the same code as before (every import is external
   * to a compile): that code is kept and linked again, with fresh imports, instead
   * of compiled again. An edit of a module then costs one compile, not one per file
   * on its way to the page (live editing's latency, and a module imported by 700 pages).
   */
  invalidate(file: string, edited?: boolean): string[];
  /** The compiled unit of a file, for mapping stack traces. */
  unitOf(file: string): CompiledUnit | undefined;
  /** Compiled pages and modules held (for tests and diagnostics). */
  readonly size: number;
  /** The user files that import `file`, directly or not (pages and modules; `file` itself excluded). Live reload asks before it invalidates. */
  dependents(file: string): Set<string>;
  /** Forgets every compiled page and module (e.g. a tsconfig.json changed); returns the pages forgotten. */
  invalidateAll(): string[];
  /** Files compiled one by one since the registry was created (not those of a batch, nor code kept and linked again; for tests and diagnostics). */
  readonly compiles: number;
  /** The user files compiled or imported now (live reload watches those outside ROOT too). */
  files(): string[];
  /** Runs the dispose functions of every loaded module (a graceful stop) and forgets them. */
  disposeAll(): Promise<void>;
  /**
   * Units compiled ahead (compile.ts compileBatch: the production start): the next load of
   * each file in its mode takes its unit instead of compiling the file. Returns the function
   * that forgets those not taken (so that no unit stays that nothing will run).
   */
  prime(units: Iterable<CompiledUnit>): () => void;
}

/** Told when a module's dispose function fails (the server logs it); the others still run. */
export type DisposeErrorHandler = (file: string, err: unknown) => void;

/** A page's top-level code runs on every request: a dispose function given there would pile up. */
const PAGE_HOT = Object.freeze({
  dispose(): never {
    throw new Error("import.meta.hot.dispose() belongs in a module that pages import (e.g. _lib/db.ts): a page's top-level code runs on every request");
  },
});

/** At most this many pages of a folder are compiled ahead by one first visit (one esbuild build; see compileAhead). */
const AHEAD_BATCH = 100;

/**
 * Creates an empty registry; `root` names scripts in messages (relative paths).
 * `release()`: while it returns true (production, once started), the compiler is
 * stopped after each compile (see compile.ts releaseCompiler).
 * `ahead` (development, with `root`): the first compile of a page also compiles the
 * pages beside it that are not compiled yet, in one build (see compileAhead).
 */
export function createModuleRegistry(
  root?: string,
  onDisposeError: DisposeErrorHandler = (file, err) => console.error(`dispose of ${file} failed:`, err),
  release: () => boolean = () => false,
  ahead = false,
): ModuleRegistry {
  const nameOf = (file: string): string => (root ? relativePath(root, file) : file);
  /** The imports of a script as it sees them: `node:process` is its view that cannot stop the server. */
  const asSeenBy = (file: string, unit: CompiledUnit, imports: unknown[]): unknown[] =>
    unit.imports.some((imp) => isProcessModule(imp.source))
      ? imports.map((m, i) => (isProcessModule(unit.imports[i]!.source) ? processModuleFor(m as Record<string, unknown>, nameOf(file)) : m))
      : imports;
  /** What the script's own `process` names, when it names it. */
  const processOf = (file: string, unit: CompiledUnit): unknown => (unit.head.includes('__kts_process') ? processViewFor(nameOf(file)) : undefined);
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  const pages = new Map<string, { mtimeMs: number | undefined; page: Promise<LinkedPage>; ready?: LinkedPage }>();
  const units = new Map<string, CompiledUnit>();
  /** file → the user files that import it directly (pages and modules). */
  const importers = new Map<string, Set<string>>();
  let compiles = 0;
  /** Set once a module that uses the names of a page's scope is compiled; never unset (a stale true only costs a little). */
  let requestNames = false;
  /** file → the dispose functions its evaluation registered (`import.meta.hot.dispose`). */
  const disposers = new Map<string, (() => unknown)[]>();
  /** file → its dispose functions still running: the next evaluation of that file waits for them. */
  const disposing = new Map<string, Promise<void>>();

  function metaOf(file: string, mode: 'page' | 'module'): ImportMetaLike {
    const hot =
      mode === 'page'
        ? PAGE_HOT
        : {
            dispose(fn: () => unknown): void {
              if (typeof fn !== 'function') throw new TypeError('import.meta.hot.dispose(fn): fn must be a function');
              let list = disposers.get(file);
              if (!list) disposers.set(file, (list = []));
              list.push(fn);
            },
          };
    return { url: pathToFileURL(file).href, filename: file, dirname: path.dirname(file), hot };
  }

  /** Runs and forgets the dispose functions of `file`, in reverse order of registration, one after the other. */
  function dispose(file: string): Promise<void> {
    const list = disposers.get(file);
    if (!list) return disposing.get(file) ?? Promise.resolve();
    disposers.delete(file);
    const before = disposing.get(file);
    const run = (async () => {
      await before;
      for (const fn of list.reverse()) {
        try {
          await fn();
        } catch (err) {
          onDisposeError(file, err);
        }
      }
    })();
    disposing.set(file, run);
    void run.then(() => {
      if (disposing.get(file) === run) disposing.delete(file);
    });
    return run;
  }

  /** Units compiled ahead, by mode and file; each is taken once (then it lives in `units`), and an invalidation drops it. */
  const primed = new Map<string, CompiledUnit>();
  const primeKey = (file: string, mode: 'page' | 'module'): string => mode + '\0' + file;

  /** Pages being compiled ahead (development): the unit, or undefined when the batch left it out or was outdated. */
  const comingPages = new Map<string, Promise<CompiledUnit | undefined>>();
  /** Bumped by every invalidation: a batch started before one is not used (a file it read may have changed since). */
  let generation = 0;
  /**
   * Compiles running, by file. One still running when its file changes (or the
   * configuration does) may hold the old code: its unit is marked stale, never
   * kept for a relink.
   */
  const running = new Map<string, Set<{ stale: boolean }>>();
  const staleUnits = new WeakSet<CompiledUnit>();

  /**
   * A first visit in development costs one esbuild build per page (~10 ms: the build's round
   * trips to esbuild's process), and a visitor or a crawler opens the pages of a folder one
   * after the other. So the first compile of a page starts one build for the pages beside it
   * that are neither compiled nor coming (up to AHEAD_BATCH, in name order from the page): their
   * first visits then only link (~1 ms a page). Private files are not pages: never compiled ahead.
   */
  function compileAhead(file: string): void {
    if (!root) return;
    const dir = path.dirname(file);
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      return;
    }
    const start = names.indexOf(path.basename(file));
    const siblings: string[] = [];
    for (const name of [...names.slice(start + 1), ...names.slice(0, Math.max(start, 0))]) {
      if (siblings.length >= AHEAD_BATCH) break;
      const sibling = path.join(dir, name);
      if (!isScriptFile(name) || isPrivatePath(root, sibling) || pages.has(sibling) || comingPages.has(sibling) || primed.has(primeKey(sibling, 'page'))) continue;
      siblings.push(sibling);
    }
    if (!siblings.length) return;
    const started = generation;
    const batch = compileBatch(siblings, 'page').then(
      (units) => (generation === started ? units : new Map<string, CompiledUnit>()),
      () => new Map<string, CompiledUnit>(),
    );
    for (const sibling of siblings) {
      const coming = batch.then((units) => units.get(sibling));
      comingPages.set(sibling, coming);
      // Not taken by a visit: kept as a primed unit, the next load takes it from there.
      void coming.then((unit) => {
        if (comingPages.get(sibling) !== coming) return;
        comingPages.delete(sibling);
        if (unit) primed.set(primeKey(sibling, 'page'), unit);
      });
    }
  }

  async function compiled(file: string, mode: 'page' | 'module'): Promise<CompiledUnit> {
    const primedUnit = primed.get(primeKey(file, mode));
    if (primedUnit) {
      primed.delete(primeKey(file, mode));
      return primedUnit;
    }
    if (mode === 'page') {
      const coming = comingPages.get(file);
      if (coming) {
        comingPages.delete(file);
        const unit = await coming;
        if (unit) return unit;
      } else if (ahead) compileAhead(file);
    }
    compiles++;
    const run = { stale: false };
    let runs = running.get(file);
    if (!runs) running.set(file, (runs = new Set()));
    runs.add(run);
    try {
      const unit = await compileFile(file, mode);
      if (run.stale) staleUnits.add(unit);
      return unit;
    } finally {
      runs.delete(run);
      if (!runs.size && running.get(file) === runs) running.delete(file);
      if (release()) void releaseCompiler();
    }
  }

  function addEdge(from: string, to: string): void {
    let set = importers.get(to);
    if (!set) importers.set(to, (set = new Set()));
    set.add(from);
  }

  async function loadNative(source: string): Promise<unknown> {
    if (!path.isAbsolute(source)) return import(source);
    return import(pathToFileURL(source).href);
  }

  function load(source: string, chain: readonly string[], files: Set<string>): Promise<unknown> {
    if (isNativeModule(source)) return loadNative(source);
    files.add(source);
    if (chain.includes(source)) {
      const cycle = [...chain.slice(chain.indexOf(source)), source].map((f) => path.basename(f)).join(' → ');
      return Promise.reject(new CompileError(`circular import: ${cycle}`, chain[chain.length - 1]!, 1, 1, []));
    }
    let mod = modules.get(source);
    if (!mod) {
      mod = evaluate(source, chain);
      modules.set(source, mod);
      mod.catch(() => {
        if (modules.get(source) === mod) modules.delete(source);
      });
    }
    return mod;
  }

  async function evaluate(file: string, chain: readonly string[]): Promise<Record<string, unknown>> {
    if (file.endsWith('.json')) {
      return { default: JSON.parse(await fs.promises.readFile(file, 'utf8')) as unknown };
    }
    await disposing.get(file);
    const unit = await compiled(file, 'module');
    units.set(file, unit);
    if (unit.requestNames) requestNames = true;
    const files = new Set<string>();
    const loading = unit.imports.map((imp) => load(imp.source, [...chain, file], files));
    // Edges are known before the imports settle: an edit made meanwhile, or a fix of a failing import, reaches this file.
    for (const dep of files) addEdge(file, dep);
    const imports = asSeenBy(file, unit, await Promise.all(loading));
    const run = unit.factory(imports, metaOf(file, 'module'), processOf(file, unit));
    // A module's code always returns its namespace (compile.ts).
    return (await outsideAnyRequest(() => run())) as Record<string, unknown>;
  }

  async function link(file: string): Promise<LinkedPage> {
    const unit = await compiled(file, 'page');
    units.set(file, unit);
    const files = new Set<string>([file]);
    const loading = unit.imports.map((imp) => load(imp.source, [file], files));
    for (const dep of files) if (dep !== file) addEdge(file, dep);
    const imports = asSeenBy(file, unit, await Promise.all(loading));
    const meta = metaOf(file, 'page');
    const ownProcess = processOf(file, unit);
    const run = unit.factory(imports, meta, ownProcess);
    const variants = new Map<string, LinkedPage['run']>();
    const runWith = (names: readonly string[]): LinkedPage['run'] => {
      const extra = names.filter((n) => unit.used.has(n));
      if (!extra.length) return run;
      const key = extra.sort().join(',');
      let variant = variants.get(key);
      if (!variant) variants.set(key, (variant = makeFactory(unit, extra)(imports, meta, ownProcess)));
      return variant;
    };
    return {
      unit,
      run,
      runWith,
      services: new Set(unit.exportNames.filter((n) => n !== 'default')),
      files,
      get requestNames() {
        return requestNames;
      },
    };
  }

  function loadPage(file: string, mtimeMs?: number): Promise<LinkedPage> {
    const cached = pages.get(file);
    if (cached && (mtimeMs === undefined || cached.mtimeMs === mtimeMs)) return cached.page;
    if (cached) invalidate(file);
    const page = link(file);
    const entry: { mtimeMs: number | undefined; page: Promise<LinkedPage>; ready?: LinkedPage } = { mtimeMs, page };
    pages.set(file, entry);
    page.then(
      (linked) => {
        entry.ready = linked;
      },
      // A failed compile is retried on the next request (the file may have been fixed meanwhile).
      () => {
        if (pages.get(file) === entry) pages.delete(file);
      },
    );
    return page;
  }

  function readyPage(file: string): LinkedPage | undefined {
    return pages.get(file)?.ready;
  }

  function invalidate(file: string, edited = false): string[] {
    generation++;
    for (const run of running.get(file) ?? []) run.stale = true;
    const seen = new Set<string>();
    const dropped: string[] = [];
    // The files that import `file` are linked again, not compiled again: their code does not
    // depend on what they import (every import is external), so their units are kept as primed
    // ones (an edit of a module imported by 700 pages then costs one build, not 700). Not when
    // `file` came or went: an importer's import may resolve elsewhere now, and compiling it
    // again reports an import of a missing file.
    const relink = edited && fs.existsSync(file);
    const visit = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      void dispose(f);
      const kept = f !== file && relink ? [pages.get(f)?.ready?.unit, units.get(f)] : [];
      modules.delete(f);
      units.delete(f);
      primed.delete(primeKey(f, 'page'));
      primed.delete(primeKey(f, 'module'));
      comingPages.delete(f);
      for (const unit of kept) if (unit && !staleUnits.has(unit)) primed.set(primeKey(f, unit.mode), unit);
      if (pages.delete(f)) dropped.push(f);
      const users = importers.get(f);
      importers.delete(f);
      if (users) for (const u of users) visit(u);
    };
    visit(file);
    return dropped;
  }

  function dependents(file: string): Set<string> {
    const found = new Set<string>();
    const stack = [file];
    while (stack.length) {
      const users = importers.get(stack.pop()!);
      if (users) for (const u of users) if (u !== file && !found.has(u)) found.add(u), stack.push(u);
    }
    return found;
  }

  function invalidateAll(): string[] {
    generation++;
    for (const runs of running.values()) for (const run of runs) run.stale = true;
    comingPages.clear();
    const dropped = [...pages.keys()];
    for (const file of [...disposers.keys()]) void dispose(file);
    modules.clear();
    pages.clear();
    units.clear();
    primed.clear();
    importers.clear();
    return dropped;
  }

  return {
    loadPage,
    readyPage,
    invalidate,
    unitOf: (file) => units.get(file),
    get size() {
      return units.size;
    },
    dependents,
    invalidateAll,
    files: () => [...new Set([...units.keys(), ...importers.keys()])],
    prime(ahead) {
      const keys: string[] = [];
      for (const unit of ahead) {
        const key = primeKey(unit.file, unit.mode);
        primed.set(key, unit);
        keys.push(key);
      }
      return () => {
        for (const key of keys) primed.delete(key);
      };
    },
    async disposeAll() {
      await Promise.all([...new Set([...disposers.keys(), ...disposing.keys()])].map(dispose));
    },
    get compiles() {
      return compiles;
    },
  };
}
