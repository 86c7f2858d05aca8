/**
 * The type checker of a site (`karrigell-ts check` and the development type
 * banner): a TypeScript LanguageService over every script of ROOT, reused
 * incrementally between checks.
 *
 * What the checker sees is what the server runs:
 *  - every script is an ES module (top-level await, its own scope), compiled
 *    with JSX from `karrigell-ts/jsx-runtime`; `.ts` extensions may be imported;
 *  - the names of SPEC §4 are declared by the package's `types/globals.d.ts`,
 *    always part of the program;
 *  - `karrigell-ts` and `karrigell-ts/jsx-runtime` resolve to this package's
 *    declarations, even when the site has no node_modules;
 *  - a `.tsp` page is checked as the TypeScript `tspToTs` makes of it, and its
 *    errors are mapped back to the `.tsp` line and column;
 *  - a `.tsx` page's top-level JSX statements are printed, as at run time;
 *  - Karrigell's `_name` shortcuts (identifiers starting with `_` that the
 *    script does not declare) are declared for that file as `FieldValue`;
 *  - names passed by `Include('file.ts', { title: 'x' })` are declared in the
 *    included script (typed from literal values, else `any`);
 *  - of `@types/node`, only the modules the program names are read
 *    (node-declarations.ts), with the same diagnostics.
 * These additions are appended after the last line of the file, so positions
 * in the file are unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import type ts from 'typescript';
import { tspToTs } from '../syntax/tsp.js';
import { isDeclarationFile, isScriptFile, PACKAGE_DIR, walkSite } from '../site.js';
import { printTopLevelJsx } from '../syntax/tsx-statements.js';
import { loadTypescript } from '../syntax/typescript.js';
import { isShortcutName, SCOPE_NAMES as SCOPE_NAME_LIST } from '../scope-names.js';
import { isNodeTypesFile, isNodeTypesIndex, nodeDeclarations, type NodeDeclarations, type NodeIndex } from './node-declarations.js';

/** The karrigell-ts package folder (the one holding `types/` and `dist/`). */
/** The declarations of the names in a script's scope. */
export const GLOBALS_FILE = path.join(PACKAGE_DIR, 'types', 'globals.d.ts');

/** One type error, located in the file as written (1-based line and column). */
export interface TypeDiagnostic {
  /** Absolute path of the file (the `.tsp` file for a `.tsp` page); empty for an error of the configuration. */
  file: string;
  line: number;
  column: number;
  /** The message; a chain of messages is joined by newlines, indented. */
  message: string;
  /** TypeScript's error number (TS2339 …). */
  code: number;
}

/**
 * The compiler options of a site without tsconfig.json, in tsconfig.json form
 * (`init` writes the same, plus where our declarations are).
 */
export const DEFAULT_COMPILER_OPTIONS = {
  target: 'ES2022',
  lib: ['ES2023'],
  module: 'Preserve',
  moduleResolution: 'Bundler',
  moduleDetection: 'force',
  jsx: 'react-jsx',
  jsxImportSource: 'karrigell-ts',
  strict: true,
  noEmit: true,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  skipLibCheck: true,
} as const;

/** Names the server puts in a page's scope: never shortcuts, never Include names. */
const SCOPE_NAMES: ReadonlySet<string> = new Set(SCOPE_NAME_LIST);

/** "Cannot find name", "… Did you mean …", "No value exists in scope for the shorthand property". */
const UNKNOWN_NAME_CODES = new Set([2304, 2552, 18004]);

const TSP_SUFFIX = '.ts';
const TSP_DECLARATIONS = 'declare function __kts_out(text: string): void;declare function __kts_esc(value: unknown): string;declare function __kts_raw(value: unknown): string;declare function __kts_tag(value: unknown, where: string): string;';


/** Our own modules, for imports of `karrigell-ts…` (dist declarations, else sources). */
function ownModule(name: string): string | undefined {
  const base = { 'karrigell-ts': 'index', 'karrigell-ts/jsx-runtime': 'jsx-runtime', 'karrigell-ts/jsx-dev-runtime': 'jsx-runtime' }[name];
  if (name === 'karrigell-ts/globals') return GLOBALS_FILE;
  if (!base) return undefined;
  const dts = path.join(PACKAGE_DIR, 'dist', base + '.d.ts');
  if (fs.existsSync(dts)) return dts;
  const src = path.join(PACKAGE_DIR, 'src', base + '.ts');
  return fs.existsSync(src) ? src : undefined;
}

/** What a script says about itself, from one parse. */
interface ScriptFacts {
  /** Names declared anywhere in the file (variables, functions, classes, imports, parameters …). */
  declared: Set<string>;
  /** Identifiers used as values. */
  referenced: Set<string>;
  /** `Include('path', { name: value })` calls with a literal path. */
  includes: { target: string; names: Map<string, string> }[];
}

/** A site script as the checker holds it. */
interface ScriptEntry {
  /** The real file (`.ts`, `.tsx`, `.tsp`). */
  source: string;
  /** The name the program knows it by (`x.tsp.ts` for `x.tsp`). */
  fileName: string;
  stamp: string;
  /** The file's text as written. */
  original: string;
  /** TypeScript made of it (tspToTs, printed JSX), before the appended declarations. */
  generated: string;
  facts: ScriptFacts;
  /** What the program sees: generated + declarations. */
  text: string;
  version: number;
  snapshot: ts.IScriptSnapshot;
  /** A .tsp that does not compile: its error instead of a program file. */
  syntaxError?: TypeDiagnostic;
}

export interface SiteChecker {
  readonly root: string;
  /** Every script of ROOT (`.ts`, `.tsx`, `.tsp`), sorted, absolute. */
  scripts(): string[];
  /** Type-checks the given scripts (default: all); errors of the configuration come first. */
  check(files?: string[]): { diagnostics: TypeDiagnostic[]; files: string[] };
  /** The errors of one script (no configuration errors). */
  checkFile(file: string): TypeDiagnostic[];
}

/** Creates the checker of the site in `root` (absolute, real path preferred). */
export function createSiteChecker(root: string): SiteChecker {
  const t = loadTypescript();
  root = realpath(root);
  const configPath = path.join(root, 'tsconfig.json');

  const scripts = new Map<string, ScriptEntry>(); // by program file name
  const bySource = new Map<string, ScriptEntry>();
  const others = new Map<string, { stamp: string; version: number; snapshot: ts.IScriptSnapshot | undefined; fixed: boolean }>();
  let configStamp: string | undefined;
  let options: ts.CompilerOptions = {};
  let configFiles: string[] = [];
  let configErrors: TypeDiagnostic[] = [];
  let rootNames: string[] = [];
  let declarationFiles: string[] = [];
  let resolutionCache: ts.ModuleResolutionCache | undefined;
  let service: ts.LanguageService | undefined;
  let nodeTypes: NodeDeclarations = nodeDeclarations(t, readDeclarations);
  /** Program files already searched for the Node modules they name. */
  const searched = new WeakSet<ts.SourceFile>();

  /**
   * JSDoc is parsed only where it can make a type error (tsc's own choice
   * since TypeScript 5.3): the declarations of Node are mostly comments, and
   * parsing them all cost 5 MB of the checker's heap and half its first check.
   */
  const JSDOC = t.JSDocParsingMode.ParseForTypeErrors;
  const libDir = path.dirname(t.getDefaultLibFilePath({}));
  const isFixed = (file: string): boolean => file.startsWith(libDir + path.sep) || file.includes(`${path.sep}node_modules${path.sep}`);
  /**
   * Declaration files of TypeScript's lib and of packages are read without
   * their comments while `skipLibCheck` is on (the default): nothing in them
   * is then reported, so no position in them is ever shown, and a comment there
   * means nothing to the checker (JSDoc is not parsed, see JSDOC). Most of
   * `@types/node` is comments, some with characters beyond Latin-1 that make
   * V8 keep their file as two bytes a character: the lib, `@types/node` and
   * `undici-types` went from 2.87 M characters (3.45 MB of strings) to 0.98 M
   * (0.93 MB), the worker's heap after the demo site's checks 3.5 MB smaller.
   */
  const stripsComments = (file: string): boolean => options.skipLibCheck === true && isFixed(file) && /\.d\.[cm]?ts$/.test(file);

  function loadConfig(): void {
    const stamp = statStamp(configPath);
    if (stamp === configStamp && service) return;
    configStamp = stamp;
    configErrors = [];
    let raw: ts.CompilerOptions;
    configFiles = [];
    if (stamp === undefined) {
      raw = t.convertCompilerOptionsFromJson(DEFAULT_COMPILER_OPTIONS, root).options;
    } else {
      const read = t.readConfigFile(configPath, t.sys.readFile);
      if (read.error) configErrors.push(toDiagnostic(t, read.error));
      const parsed = t.parseJsonConfigFileContent(read.config ?? {}, t.sys, root, undefined, configPath);
      for (const e of parsed.errors) if (e.code !== 18003 && e.code !== 18002) configErrors.push(toDiagnostic(t, e));
      raw = parsed.options;
      const globalsReal = realpath(GLOBALS_FILE);
      // Another copy of our declarations would declare every name twice.
      configFiles = parsed.fileNames.filter((f) => realpath(f) !== globalsReal && !isOurGlobals(f));
    }
    options = {
      ...raw,
      // As the server runs scripts: ES modules, JSX from karrigell-ts, .ts imports, nothing emitted.
      noEmit: true,
      allowImportingTsExtensions: true,
      moduleDetection: t.ModuleDetectionKind.Force,
      module: t.ModuleKind.Preserve,
      moduleResolution: t.ModuleResolutionKind.Bundler,
      jsx: t.JsxEmit.ReactJSX,
      jsxImportSource: 'karrigell-ts',
      allowJs: raw.allowJs ?? false,
    };
    for (const key of ['outDir', 'outFile', 'rootDir', 'declarationDir', 'tsBuildInfoFile'] as const) delete options[key];
    for (const key of ['declaration', 'composite', 'incremental', 'emitDeclarationOnly', 'sourceMap', 'declarationMap', 'noEmitOnError'] as const) delete options[key];
    options.target ??= t.ScriptTarget.ES2022;
    // What a declaration file holds depends on skipLibCheck (stripsComments): read again under the new options.
    others.clear();
    nodeTypes = nodeDeclarations(t, readDeclarations);
    resolutionCache = undefined;
    service?.dispose();
    service = undefined;
  }

  /** Scans ROOT and brings every script entry up to date. */
  function refresh(): void {
    loadConfig();
    const found = scanSite(root);
    declarationFiles = found.declarations;
    const seen = new Set<string>();
    let changed = false;
    for (const source of found.scripts) {
      seen.add(source);
      const stamp = statStamp(source);
      const old = bySource.get(source);
      if (old && old.stamp === stamp) continue;
      changed = true;
      const original = readText(source) ?? '';
      const entry = makeEntry(source, stamp ?? '', original, old);
      bySource.set(source, entry);
      scripts.set(entry.fileName, entry);
    }
    for (const [source, entry] of bySource) {
      if (seen.has(source)) continue;
      bySource.delete(source);
      scripts.delete(entry.fileName);
      changed = true;
    }
    if (changed) resolutionCache = undefined;
    // The declarations appended to each script depend on every script (Include names).
    const passed = includedNames();
    for (const entry of bySource.values()) {
      const text = entry.generated + appendix(entry, passed.get(entry.source));
      if (text !== entry.text) {
        entry.text = text;
        entry.version++;
        entry.snapshot = t.ScriptSnapshot.fromString(text);
      }
    }
    const globals = GLOBALS_FILE;
    const names = new Set<string>([globals, ...configFiles, ...declarationFiles]);
    for (const entry of bySource.values()) if (!entry.syntaxError) names.add(entry.fileName);
    rootNames = [...names];
  }

  function makeEntry(source: string, stamp: string, original: string, old: ScriptEntry | undefined): ScriptEntry {
    const isTsp = source.endsWith('.tsp');
    const fileName = isTsp ? source + TSP_SUFFIX : source;
    let generated = original;
    let syntaxError: TypeDiagnostic | undefined;
    if (isTsp) {
      try {
        generated = tspToTs(original, source);
      } catch (err) {
        const e = err as Error & { line?: number; column?: number };
        syntaxError = { file: source, line: e.line ?? 1, column: e.column ?? 1, message: e.message, code: 0 };
        generated = '';
      }
    } else if (source.endsWith('.tsx')) {
      generated = printTopLevelJsx(original, source);
    }
    const kind = source.endsWith('.tsx') ? t.ScriptKind.TSX : t.ScriptKind.TS;
    const facts = scriptFacts(t, fileName, generated, kind);
    return {
      source,
      fileName,
      stamp,
      original,
      generated,
      facts,
      text: '',
      version: (old?.version ?? 0) + 1,
      snapshot: t.ScriptSnapshot.fromString(''),
      syntaxError,
    };
  }

  /** For each included script, the names Include calls pass to it, with their types. */
  function includedNames(): Map<string, Map<string, Set<string>>> {
    const out = new Map<string, Map<string, Set<string>>>();
    for (const entry of bySource.values()) {
      for (const inc of entry.facts.includes) {
        const target = inc.target.startsWith('/') ? path.join(root, inc.target) : path.resolve(path.dirname(entry.source), inc.target);
        if (!bySource.has(target)) continue;
        let names = out.get(target);
        if (!names) out.set(target, (names = new Map()));
        for (const [name, type] of inc.names) {
          let types = names.get(name);
          if (!types) names.set(name, (types = new Set()));
          types.add(type);
        }
      }
    }
    return out;
  }

  /** Declarations appended after the script's last line. */
  function appendix(entry: ScriptEntry, passed: Map<string, Set<string>> | undefined): string {
    const { declared, referenced } = entry.facts;
    const parts: string[] = [];
    if (entry.source.endsWith('.tsp')) parts.push(TSP_DECLARATIONS);
    const shortcuts: string[] = [];
    const names: string[] = [];
    for (const name of referenced) {
      if (declared.has(name) || SCOPE_NAMES.has(name)) continue;
      const types = passed?.get(name);
      if (types) names.push(`declare const ${name}: ${types.has('any') ? 'any' : [...types].join(' | ')};`);
      else if (isShortcutName(name)) shortcuts.push(`${name}: FieldValue`);
    }
    if (shortcuts.length) parts.push(`declare const ${shortcuts.join(', ')};`);
    parts.push(...names);
    return parts.length ? '\n;' + parts.join('') + '\n' : '';
  }

  /** A declaration file's text as the program reads it (see stripsComments). */
  function readDeclarations(fileName: string): string | undefined {
    const read = readText(fileName);
    return read !== undefined && stripsComments(fileName) ? withoutComments(t, read) : read;
  }

  /** The `@types/node` index FILE as given to TypeScript (node-declarations.ts); undefined when read as written. */
  const nodeIndex = (fileName: string): NodeIndex | undefined => (isNodeTypesIndex(fileName) ? nodeTypes.index(fileName) : undefined);

  /**
   * The program, once the `@types/node` indexes hold every module it names:
   * a file that names one more (an edit importing `node:http2`, a package's
   * declarations) makes the program again with it.
   */
  function currentProgram(): ts.Program | undefined {
    const ls = languageService();
    let program = ls.getProgram();
    for (let round = 0; program && round < 4; round++) {
      let grew = false;
      for (const sf of program.getSourceFiles()) {
        if (searched.has(sf)) continue;
        searched.add(sf);
        if (sf.fileName.startsWith(libDir + path.sep) || isNodeTypesFile(sf.fileName)) continue;
        if (nodeTypes.mention(sf)) grew = true;
      }
      if (!grew) break;
      program = ls.getProgram();
    }
    return program;
  }

  function otherEntry(fileName: string): { version: number; snapshot: ts.IScriptSnapshot | undefined } {
    const old = others.get(fileName);
    if (old?.fixed) return old;
    const fixed = isFixed(fileName);
    const stamp = statStamp(fileName) ?? '';
    if (old && old.stamp === stamp) return old;
    const text = readDeclarations(fileName);
    const entry = { stamp, version: (old?.version ?? 0) + 1, snapshot: text === undefined ? undefined : t.ScriptSnapshot.fromString(text), fixed };
    others.set(fileName, entry);
    return entry;
  }

  const moduleHost: ts.ModuleResolutionHost = {
    fileExists: (f) => scripts.has(f) || t.sys.fileExists(f),
    readFile: (f) => scripts.get(f)?.text ?? t.sys.readFile(f),
    directoryExists: (d) => t.sys.directoryExists(d),
    getDirectories: (d) => t.sys.getDirectories(d),
    realpath: (f) => (scripts.has(f) ? f : (t.sys.realpath?.(f) ?? f)),
    getCurrentDirectory: () => root,
    useCaseSensitiveFileNames: t.sys.useCaseSensitiveFileNames,
  };

  const host: ts.LanguageServiceHost = {
    jsDocParsingMode: JSDOC,
    getCompilationSettings: () => options,
    getScriptFileNames: () => rootNames,
    getScriptVersion: (f) => {
      const script = scripts.get(f);
      if (script) return String(script.version);
      const node = nodeIndex(f);
      return node ? `node-${node.version}` : String(otherEntry(f).version);
    },
    getScriptSnapshot: (f) => scripts.get(f)?.snapshot ?? nodeIndex(f)?.snapshot ?? otherEntry(f).snapshot,
    getScriptKind: (f) => (f.endsWith('.tsx') ? t.ScriptKind.TSX : f.endsWith('.json') ? t.ScriptKind.JSON : f.endsWith('.js') ? t.ScriptKind.JS : t.ScriptKind.TS),
    getCurrentDirectory: () => root,
    getDefaultLibFileName: (o) => t.getDefaultLibFilePath(o),
    fileExists: moduleHost.fileExists,
    readFile: (f) => moduleHost.readFile(f),
    readDirectory: (...args) => t.sys.readDirectory(...args),
    directoryExists: moduleHost.directoryExists,
    getDirectories: moduleHost.getDirectories,
    realpath: moduleHost.realpath,
    useCaseSensitiveFileNames: () => t.sys.useCaseSensitiveFileNames,
    resolveModuleNameLiterals(literals, containingFile, redirected, compilerOptions, containingSourceFile) {
      resolutionCache ??= t.createModuleResolutionCache(root, (f) => f, compilerOptions);
      return literals.map((literal) => {
        const own = ownModule(literal.text);
        if (own) {
          return { resolvedModule: { resolvedFileName: own, extension: own.endsWith('.d.ts') ? t.Extension.Dts : t.Extension.Ts, isExternalLibraryImport: true } };
        }
        const mode = t.getModeForUsageLocation(containingSourceFile, literal, compilerOptions);
        return t.resolveModuleName(literal.text, containingFile, compilerOptions, moduleHost, resolutionCache, redirected, mode);
      });
    },
  };

  function languageService(): ts.LanguageService {
    service ??= t.createLanguageService(host, t.createDocumentRegistry(t.sys.useCaseSensitiveFileNames, root, JSDOC));
    return service;
  }

  function diagnosticsOf(source: string): TypeDiagnostic[] {
    const entry = bySource.get(source);
    if (!entry) return [];
    if (entry.syntaxError) return [entry.syntaxError];
    const ls = languageService();
    const raw = [...ls.getSyntacticDiagnostics(entry.fileName), ...ls.getSemanticDiagnostics(entry.fileName)];
    const out: TypeDiagnostic[] = [];
    for (const d of raw) {
      if (d.category !== t.DiagnosticCategory.Error) continue;
      if (d.file && d.start !== undefined && UNKNOWN_NAME_CODES.has(d.code)) {
        // A `_name` the script declares somewhere yet uses outside that scope: still a shortcut.
        const name = d.file.text.slice(d.start, d.start + (d.length ?? 0));
        if (isShortcutName(name)) continue;
      }
      out.push(locate(t, d, entry));
    }
    return out;
  }

  function declarationDiagnostics(file: string): TypeDiagnostic[] {
    const ls = languageService();
    return [...ls.getSyntacticDiagnostics(file), ...ls.getSemanticDiagnostics(file)]
      .filter((d) => d.category === t.DiagnosticCategory.Error)
      .map((d) => toDiagnostic(t, d));
  }

  return {
    root,
    scripts() {
      return scanSite(root).scripts;
    },
    check(files) {
      refresh();
      const list = files ? files.map((f) => path.resolve(f)) : [...bySource.keys()].sort();
      const diagnostics: TypeDiagnostic[] = [...configErrors];
      const program = currentProgram();
      if (program) {
        for (const d of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) {
          if (d.category === t.DiagnosticCategory.Error) diagnostics.push(toDiagnostic(t, d));
        }
      }
      for (const file of list) diagnostics.push(...diagnosticsOf(file));
      if (!files) for (const file of declarationFiles) diagnostics.push(...declarationDiagnostics(file));
      return { diagnostics, files: list };
    },
    checkFile(file) {
      refresh();
      currentProgram();
      return diagnosticsOf(path.resolve(file));
    },
  };
}

/**
 * TEXT (a declaration file) without its comments, for TypeScript's scanner:
 * a comment that spans lines becomes a line break (the parser reads line
 * breaks), any other a space; triple-slash directives (`/// <reference …>`)
 * stay. Strings and template literal types are read as the parser reads them.
 */
export function withoutComments(t: typeof ts, text: string): string {
  const scanner = t.createScanner(t.ScriptTarget.Latest, false, t.LanguageVariant.Standard, text);
  const K = t.SyntaxKind;
  let out = '';
  let copied = 0;
  let braces = 0;
  /** For each template literal whose `${` is open: the brace depth at its `${`. */
  const templates: number[] = [];
  for (let kind = scanner.scan(); kind !== K.EndOfFileToken; kind = scanner.scan()) {
    if (kind === K.TemplateHead) templates.push(braces);
    else if (kind === K.OpenBraceToken) braces++;
    else if (kind === K.CloseBraceToken) {
      // The `}` that closes a `${`: the template goes on (the parser rescans it the same way).
      if (templates.length && templates[templates.length - 1] === braces) {
        if (scanner.reScanTemplateToken(false) === K.TemplateTail) templates.pop();
      } else braces--;
    } else if (kind === K.SingleLineCommentTrivia || kind === K.MultiLineCommentTrivia) {
      const comment = scanner.getTokenText();
      if (comment.startsWith('///')) continue;
      out += text.slice(copied, scanner.getTokenStart()) + (comment.includes('\n') ? '\n' : ' ');
      copied = scanner.getTokenEnd();
    }
  }
  return copied ? out + text.slice(copied) : text;
}

/** Scripts and declaration files of a site: no node_modules, no dot names. */
function scanSite(root: string): { scripts: string[]; declarations: string[] } {
  const scripts: string[] = [];
  const declarations: string[] = [];
  walkSite(root, (file, name) => {
    if (isDeclarationFile(name)) declarations.push(file);
    else if (isScriptFile(name)) scripts.push(file);
  });
  return { scripts: scripts.sort(), declarations: declarations.sort() };
}

function isOurGlobals(file: string): boolean {
  if (path.basename(file) !== 'globals.d.ts' || path.basename(path.dirname(file)) !== 'types') return false;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(file), '..', 'package.json'), 'utf8')) as { name?: string };
    return pkg.name === 'karrigell-ts';
  } catch {
    return false;
  }
}

function statStamp(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function realpath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Declared and referenced names, and Include calls, of a script (syntax only). */
function scriptFacts(t: typeof ts, fileName: string, text: string, kind: ts.ScriptKind): ScriptFacts {
  const declared = new Set<string>();
  const referenced = new Set<string>();
  const includes: ScriptFacts['includes'] = [];
  const sf = t.createSourceFile(fileName, text, t.ScriptTarget.Latest, true, kind);
  const visit = (node: ts.Node): void => {
    if (t.isIdentifier(node)) {
      const role = identifierRole(t, node);
      if (role === 'declaration') declared.add(node.text);
      else if (role === 'reference') referenced.add(node.text);
    } else if (t.isCallExpression(node) && t.isIdentifier(node.expression) && node.expression.text === 'Include') {
      const [target, names] = node.arguments;
      if (target && (t.isStringLiteral(target) || t.isNoSubstitutionTemplateLiteral(target))) {
        const passed = new Map<string, string>();
        if (names && t.isObjectLiteralExpression(names)) {
          for (const p of names.properties) {
            if (t.isPropertyAssignment(p) && (t.isIdentifier(p.name) || t.isStringLiteral(p.name))) passed.set(p.name.text, literalType(t, p.initializer));
            else if (t.isShorthandPropertyAssignment(p)) passed.set(p.name.text, 'any');
          }
        }
        includes.push({ target: target.text, names: passed });
      }
    }
    t.forEachChild(node, visit);
  };
  visit(sf);
  return { declared, referenced, includes };
}

function literalType(t: typeof ts, e: ts.Expression): string {
  while (t.isParenthesizedExpression(e) || t.isAsExpression(e) || t.isSatisfiesExpression(e)) e = e.expression;
  if (t.isStringLiteral(e) || t.isNoSubstitutionTemplateLiteral(e) || t.isTemplateExpression(e)) return 'string';
  if (t.isNumericLiteral(e) || (t.isPrefixUnaryExpression(e) && t.isNumericLiteral(e.operand))) return 'number';
  if (e.kind === t.SyntaxKind.TrueKeyword || e.kind === t.SyntaxKind.FalseKeyword) return 'boolean';
  return 'any';
}

/** Whether an identifier declares a name, refers to a value, or neither (a property name, a label, a type …). */
function identifierRole(t: typeof ts, id: ts.Identifier): 'declaration' | 'reference' | 'other' {
  const p = id.parent;
  if (!p) return 'other';
  if (
    t.isVariableDeclaration(p) || t.isParameter(p) || t.isFunctionDeclaration(p) || t.isFunctionExpression(p) ||
    t.isClassDeclaration(p) || t.isClassExpression(p) || t.isEnumDeclaration(p) || t.isImportClause(p) ||
    t.isNamespaceImport(p) || t.isImportEqualsDeclaration(p) || t.isModuleDeclaration(p)
  ) {
    return (p as { name?: ts.Node }).name === id ? 'declaration' : 'reference';
  }
  if (t.isImportSpecifier(p)) return p.name === id ? 'declaration' : 'other';
  if (t.isBindingElement(p)) return p.name === id ? 'declaration' : 'other';
  if (t.isTypeAliasDeclaration(p) || t.isInterfaceDeclaration(p) || t.isTypeParameterDeclaration(p)) return 'other';
  if (t.isPropertyAccessExpression(p)) return p.name === id ? 'other' : 'reference';
  if (t.isQualifiedName(p)) return p.left === id ? 'reference' : 'other';
  if (t.isTypeReferenceNode(p) || t.isExpressionWithTypeArguments(p)) return 'other';
  if (t.isShorthandPropertyAssignment(p)) return 'reference';
  if (
    t.isPropertyAssignment(p) || t.isPropertyDeclaration(p) || t.isPropertySignature(p) || t.isMethodDeclaration(p) ||
    t.isMethodSignature(p) || t.isGetAccessorDeclaration(p) || t.isSetAccessorDeclaration(p) || t.isEnumMember(p) ||
    t.isPropertyAssignment(p) || t.isJsxAttribute(p) || t.isJsxNamespacedName(p) || t.isExportSpecifier(p) ||
    t.isLabeledStatement(p) || t.isBreakOrContinueStatement(p) || t.isMetaProperty(p) || t.isNamedTupleMember(p)
  ) {
    return (p as { name?: ts.Node; label?: ts.Node }).name === id || (p as { label?: ts.Node }).label === id ? 'other' : 'reference';
  }
  return 'reference';
}

function flatten(t: typeof ts, message: string | ts.DiagnosticMessageChain): string {
  return t.flattenDiagnosticMessageText(message, '\n');
}

function toDiagnostic(t: typeof ts, d: ts.Diagnostic): TypeDiagnostic {
  if (!d.file || d.start === undefined) return { file: '', line: 0, column: 0, message: flatten(t, d.messageText), code: d.code };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: d.file.fileName, line: line + 1, column: character + 1, message: flatten(t, d.messageText), code: d.code };
}

/** A diagnostic of a script, located in the file as written. */
function locate(t: typeof ts, d: ts.Diagnostic, entry: ScriptEntry): TypeDiagnostic {
  const base = toDiagnostic(t, d);
  if (!d.file || d.file.fileName !== entry.fileName) return base;
  const originalLines = entry.original.split('\n');
  const generatedLines = entry.generated.split('\n');
  let line = base.line - 1;
  let column = base.column - 1;
  if (line >= generatedLines.length || line >= originalLines.length) {
    // In the appended declarations (or past the end): the last line of the file.
    line = Math.max(0, originalLines.length - 1);
    column = 0;
  } else if (entry.generated !== entry.original) {
    column = mapColumn(generatedLines[line]!, originalLines[line]!, column);
  }
  return { ...base, file: entry.source, line: line + 1, column: column + 1 };
}

/**
 * Maps a column of a generated line to the line it was made from: the two
 * are aligned on their longest common subsequence (code is copied verbatim,
 * only wrappers are added around it), and the column goes with its character.
 */
export function mapColumn(generated: string, original: string, column: number): number {
  if (generated === original) return column;
  const n = generated.length;
  const m = original.length;
  if (n === 0 || m === 0) return Math.min(column, m);
  if (n * m > 4_000_000) return Math.min(column, m);
  // lcs[i][j] = LCS length of generated[i..] and original[j..]
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = generated.charCodeAt(i) === original.charCodeAt(j) ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  // Matched pairs, in order. Ties prefer skipping generated characters, so that
  // a character of the original goes with its last copy (the code after a wrapper).
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (generated.charCodeAt(i) === original.charCodeAt(j) && lcs[i * w + j] === lcs[(i + 1) * w + j + 1]! + 1 && lcs[(i + 1) * w + j]! < lcs[i * w + j]!) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) i++;
    else j++;
  }
  let before: [number, number] | undefined;
  let after: [number, number] | undefined;
  for (const pair of pairs) {
    if (pair[0] === column) return pair[1];
    if (pair[0] < column) before = pair;
    else {
      after = pair;
      break;
    }
  }
  if (before) {
    const guess = before[1] + (column - before[0]);
    return after ? Math.min(guess, after[1]) : Math.min(guess, m);
  }
  return after ? Math.max(0, after[1] - (after[0] - column)) : Math.min(column, m);
}
