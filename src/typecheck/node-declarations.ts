/**
 * `@types/node` as the checker reads it: only the modules a site can reach
 * (issue 16: the development server's memory).
 *
 * Why: `@types/node`'s index references all of its 60 files, three quarters
 * of what the checker parses and binds for a site (the ES lib is the rest).
 * Most sites import a handful of Node's modules; `inspector`, `http2`,
 * `test`, `repl`, `wasi` … are never reached, yet cost 9–10 MB of the
 * TypeScript worker's heap.
 *
 * What is read instead: the index's `@types/node/index.d.ts` is given to
 * TypeScript as an index of its own, whose references are
 *  - every file that declares something global (`Buffer`, `process`, the
 *    `NodeJS` namespace, `fetch` …, and `global { }` blocks): always;
 *  - every file declaring a module the site names: a string literal in any
 *    file of the program other than `@types/node`'s own that is one of
 *    Node's module names (`'node:fs'`, `"http2"`, in an import or anywhere
 *    else; a string that merely is one, such as `'test'`, only adds files);
 *  - and what those files import, reference or name in an import type,
 *    transitively.
 * What is left out is a module nothing in the program names. A program
 * reaches such a module only through an import type of a global file
 * (process.d.ts's `BuiltInModule`, the type of `process.getBuiltinModule(id)`
 * for each `id`), which TypeScript resolves only when the property is
 * read: `getBuiltinModule('node:http2')` names it. So the diagnostics of a
 * site are the ones TypeScript gives with the whole index (tested).
 *
 * When the layout of the index is not the one understood here (a file it
 * references that is neither global nor only `declare module "…"` blocks …
 * is kept, as global), or the index cannot be read, the index is read as
 * written.
 */
import path from 'node:path';
import type ts from 'typescript';

/** What one `@types/node` folder holds, from one parse of its files. */
interface Layout {
  /** The index's own directives other than file references (`/// <reference lib="es2020" />`), kept. */
  directives: string[];
  /** Every file the index reaches, in the index's order. */
  files: string[];
  /** Files declaring something global: always referenced. */
  global: string[];
  /** A module name (without `node:`) → the files declaring it. */
  declaring: Map<string, string[]>;
  /** A file → the files it needs (its references, the declarers of the modules it names). */
  needs: Map<string, string[]>;
}

/** What can be the name of one of Node's modules (`fs`, `fs/promises`, `node:test` without `node:`). */
const MODULE_NAME = /^[a-z][a-z0-9_]*(?:\/[a-z0-9_]+)?$/;
/** The strings kept that no index read so far declares are bounded (a site's strings, kept for the edits' lifetime of the checker). */
const MAX_MENTIONED = 10_000;
const bare = (name: string): string => (name.startsWith('node:') ? name.slice(5) : name);
/** NAME as a string of its own: one read from a file is a slice of the file's text, which V8 would keep whole for as long as the name. */
const own = (name: string): string => [...name].join('');

/** Is FILE the index of an `@types/node` folder (or of its older-TypeScript copy)? */
export function isNodeTypesIndex(file: string): boolean {
  return /[\\/]@types[\\/]node[\\/](?:ts[\d.]+[\\/])?index\.d\.ts$/.test(file);
}

/** Is FILE one of an `@types/node` folder's (whose strings name no module of the site)? */
export function isNodeTypesFile(file: string): boolean {
  return /[\\/]@types[\\/]node[\\/]/.test(file);
}

export interface NodeIndex {
  version: number;
  text: string;
  snapshot: ts.IScriptSnapshot;
}

export interface NodeDeclarations {
  /** What TypeScript reads for the `@types/node` index FILE, and its version; undefined when it is read as written. */
  index(file: string): NodeIndex | undefined;
  /** Notes the modules SF names in its strings (a file of the program other than `@types/node`'s): true when an index now says more. */
  mention(sf: ts.SourceFile): boolean;
}

/** READ gives a file's text as the checker reads it (comments already left out, or not). */
export function nodeDeclarations(t: typeof ts, read: (file: string) => string | undefined): NodeDeclarations {
  const layouts = new Map<string, Layout | null>();
  /** The strings of the program that can name a module (without `node:`): those a layout declares are the modules it reads. */
  const mentioned = new Set<string>();
  /** Every module name a layout declares: a mention of any other string is not one. */
  const known = new Set<string>();
  let version = 1;
  const made = new Map<string, NodeIndex>();

  function layoutOf(index: string): Layout | null {
    let layout = layouts.get(index);
    if (layout === undefined) {
      try {
        layout = readLayout(t, index, read);
      } catch {
        layout = null;
      }
      layouts.set(index, layout);
      if (layout) for (const name of layout.declaring.keys()) known.add(name);
    }
    return layout;
  }

  return {
    index(file) {
      const layout = layoutOf(file);
      if (!layout) return undefined;
      const last = made.get(file);
      if (last?.version === version) return last;
      const wanted = new Set<string>();
      const add = (f: string): void => {
        if (wanted.has(f)) return;
        wanted.add(f);
        for (const n of layout.needs.get(f) ?? []) add(n);
      };
      for (const f of layout.global) add(f);
      for (const name of mentioned) for (const f of layout.declaring.get(name) ?? []) add(f);
      const dir = path.dirname(file);
      const refs = layout.files.filter((f) => wanted.has(f)).map((f) => `/// <reference path="${path.relative(dir, f).split(path.sep).join('/')}" />`);
      const text = [...layout.directives, ...refs, ''].join('\n');
      const index = { version, text, snapshot: t.ScriptSnapshot.fromString(text) };
      made.set(file, index);
      return index;
    },
    mention(sf) {
      let grew = false;
      const walk = (n: ts.Node): void => {
        if (t.isStringLiteralLike(n)) {
          const name = bare(n.text);
          if (!mentioned.has(name) && MODULE_NAME.test(name) && (known.has(name) || mentioned.size < MAX_MENTIONED)) {
            mentioned.add(own(name));
            // A string no index declares changes none (it is kept for an index read later).
            if (known.has(name)) grew = true;
          }
        } else {
          t.forEachChild(n, walk);
        }
      };
      walk(sf);
      if (grew) version++;
      return grew;
    },
  };
}

function readLayout(t: typeof ts, index: string, read: (file: string) => string | undefined): Layout {
  const indexText = read(index);
  if (indexText === undefined) throw new Error(`cannot read ${index}`);
  const indexFile = t.createSourceFile(index, indexText, t.ScriptTarget.Latest, false, t.ScriptKind.TS);
  // The index itself must be only directives: anything declared there would be lost.
  if (indexFile.statements.length) throw new Error('the index declares something');
  const directives = [
    ...indexFile.libReferenceDirectives.map((r) => `/// <reference lib="${r.fileName}" />`),
    ...indexFile.typeReferenceDirectives.map((r) => `/// <reference types="${r.fileName}" />`),
  ];
  const files: string[] = [];
  const global: string[] = [];
  const declaring = new Map<string, string[]>();
  const names = new Map<string, string[]>(); // file → module names it uses
  const refs = new Map<string, string[]>(); // file → files it references
  const visit = (file: string): void => {
    if (refs.has(file)) return;
    const text = read(file);
    if (text === undefined) throw new Error(`cannot read ${file}`);
    const sf = t.createSourceFile(file, text, t.ScriptTarget.Latest, false, t.ScriptKind.TS);
    const referenced = sf.referencedFiles.map((r) => path.resolve(path.dirname(file), r.fileName));
    refs.set(file, referenced);
    const used: string[] = [];
    let isGlobal = false;
    for (const statement of sf.statements) {
      if (t.isModuleDeclaration(statement) && t.isStringLiteral(statement.name)) {
        const name = own(bare(statement.name.text));
        const list = declaring.get(name);
        if (list) list.push(file);
        else declaring.set(name, [file]);
        // A `global { }` inside the module declares global names.
        if (containsGlobalBlock(t, statement)) isGlobal = true;
      } else {
        isGlobal = true; // declared in the global scope (or anything else: kept)
      }
    }
    collectModuleNames(t, sf, used, isGlobal);
    names.set(file, used);
    if (isGlobal || sf.typeReferenceDirectives.length || sf.libReferenceDirectives.length) global.push(file);
    for (const r of referenced) visit(r);
    files.push(file);
  };
  for (const r of indexFile.referencedFiles) visit(path.resolve(path.dirname(index), r.fileName));
  const needs = new Map<string, string[]>();
  for (const file of files) {
    const list = new Set(refs.get(file));
    for (const name of names.get(file) ?? []) for (const f of declaring.get(bare(name)) ?? []) list.add(f);
    list.delete(file);
    needs.set(file, [...list]);
  }
  return { directives, files, global, declaring, needs };
}

function containsGlobalBlock(t: typeof ts, node: ts.Node): boolean {
  let found = false;
  const walk = (n: ts.Node): void => {
    if (found) return;
    if (t.isModuleDeclaration(n) && t.isIdentifier(n.name) && n.name.text === 'global') found = true;
    else t.forEachChild(n, walk);
  };
  t.forEachChild(node, walk);
  return found;
}

/**
 * The module names SF uses: imports, exports from, `import x = require()`,
 * import types. In a global file, import types are left out: TypeScript
 * resolves one only when its type is read (see the head of this file).
 */
function collectModuleNames(t: typeof ts, sf: ts.SourceFile, out: string[], isGlobal: boolean): void {
  const walk = (n: ts.Node): void => {
    if ((t.isImportDeclaration(n) || t.isExportDeclaration(n)) && n.moduleSpecifier && t.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (t.isExternalModuleReference(n) && t.isStringLiteral(n.expression)) out.push(n.expression.text);
    else if (!isGlobal && t.isImportTypeNode(n) && t.isLiteralTypeNode(n.argument) && t.isStringLiteral(n.argument.literal)) out.push(n.argument.literal.text);
    t.forEachChild(n, walk);
  };
  walk(sf);
}
