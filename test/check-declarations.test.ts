/**
 * The checker reads the declaration files of TypeScript's lib and of packages
 * (`@types/node` above all) without their comments while `skipLibCheck` is on
 * (issue 16: 3.5 MB less of the type banner's worker heap). What must hold:
 * TypeScript reads the same declarations from them, and a site's scripts get
 * exactly the diagnostics TypeScript itself gives with the files as written —
 * a script importing `node:fs` has its calls checked, one importing nothing
 * still knows `Buffer` and `process` with their types.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type ts from 'typescript';
import { PROJECT, tempSite } from './helpers.js';

const require = createRequire(path.join(PROJECT, 'package.json'));
const t = require('typescript') as typeof ts;
const checker = (await import(path.join(PROJECT, 'dist', 'typecheck', 'typecheck.js'))) as typeof import('../src/typecheck/typecheck.js');
const nodeDecl = (await import(path.join(PROJECT, 'dist', 'typecheck', 'node-declarations.js'))) as typeof import('../src/typecheck/node-declarations.js');

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

/** TypeScript's own reading of a declaration file: its syntax tree printed without comments. */
function declarations(fileName: string, text: string): string {
  const sf = t.createSourceFile(fileName, text, t.ScriptTarget.Latest, false, t.ScriptKind.TS);
  const directives = [...sf.referencedFiles, ...sf.typeReferenceDirectives, ...sf.libReferenceDirectives].map((r) => r.fileName);
  // The printer keeps `/*! … */` comments even with removeComments (a licence, here): not declarations.
  const printed = t.createPrinter({ removeComments: true }).printFile(sf).replace(/\/\*![\s\S]*?\*\/\s*/g, '');
  return JSON.stringify({ directives, noDefaultLib: sf.hasNoDefaultLib }) + '\n' + printed;
}

function declarationFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts')).map((f) => path.join(dir, f));
}

/** TypeScript itself, with the declaration files as written and all of @types/node: the reference. */
function reference(root: string, files: string[]): string[] {
  const options = t.convertCompilerOptionsFromJson(checker.DEFAULT_COMPILER_OPTIONS, root).options;
  const scripts = files.map((f) => path.join(fs.realpathSync(root), f));
  const program = t.createProgram({ rootNames: [checker.GLOBALS_FILE, ...scripts], options });
  return [...program.getGlobalDiagnostics(), ...scripts.flatMap((f) => [...program.getSyntacticDiagnostics(program.getSourceFile(f)), ...program.getSemanticDiagnostics(program.getSourceFile(f))])]
    .filter((d) => d.category === t.DiagnosticCategory.Error)
    .map((d) => {
      const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start!);
      return `${path.basename(d.file!.fileName)}:${line + 1}:${character + 1} TS${d.code} ${t.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

const ours = (diagnostics: { file: string; line: number; column: number; code: number; message: string }[]): string[] =>
  diagnostics.map((d) => `${path.basename(d.file)}:${d.line}:${d.column} TS${d.code} ${d.message}`);

describe('declaration files read without comments', () => {
  it('give TypeScript the same declarations: every file of @types/node, undici-types and the ES libs', () => {
    const nodeTypes = path.dirname(require.resolve('@types/node/package.json'));
    const undici = path.dirname(createRequire(path.join(nodeTypes, 'package.json')).resolve('undici-types/package.json'));
    const libDir = path.dirname(t.getDefaultLibFilePath({}));
    const files = [...declarationFiles(nodeTypes), ...declarationFiles(undici), ...fs.readdirSync(libDir).filter((f) => /^lib\.es.*\.d\.ts$/.test(f)).map((f) => path.join(libDir, f))];
    expect(files.length).toBeGreaterThan(100);
    let before = 0;
    let after = 0;
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      const stripped = checker.withoutComments(t, text);
      before += text.length;
      after += stripped.length;
      expect(declarations(file, stripped), file).toBe(declarations(file, text));
    }
    // Most of it was comments.
    expect(after).toBeLessThan(before / 2);
  });

  it('keeps strings, template literal types, directives and line breaks as they were', () => {
    const text = [
      '/// <reference types="node" />',
      '/** a doc comment */',
      'declare const url: `http://${string}/*not a comment*/${`//${number}`}`; // a comment',
      "declare const s: '// not a comment' | \"/* nor this */\";",
      'interface A { /* inside */ a: { b: `${string}}` }; c(): void }',
      'declare let x: number /* a comment',
      'spanning lines */ declare let y: string',
    ].join('\n');
    const stripped = checker.withoutComments(t, text);
    expect(declarations('x.d.ts', stripped)).toBe(declarations('x.d.ts', text));
    expect(stripped).toContain('/// <reference types="node" />');
    expect(stripped).toContain('`http://${string}/*not a comment*/${`//${number}`}`');
    expect(stripped).toContain("'// not a comment' | \"/* nor this */\"");
    for (const comment of ['a doc comment', '// a comment', 'inside', 'spanning']) expect(stripped).not.toContain(comment);
    // The comment that spanned lines is a line break still: `y` is declared on a line of its own.
    expect(stripped).toMatch(/declare let x: number\s*\n\s*declare let y: string/);
  });
});

describe('a site checked with those declarations', () => {
  const root = tempSite({
    'files.ts': [
      "import fs from 'node:fs';",
      "const size: string = fs.statSync('x').size;",
      "fs.readFileSync(42, { encodin: 'utf8' });",
      "print(fs.existsSync('x') ? 'yes' : 'no');",
      '',
    ].join('\n'),
    'globals.ts': [
      "const b: number = Buffer.from('x');",
      'const id: number = crypto.randomUUID();',
      'process.exitt(1);',
      'const env: number = process.env.HOME;',
      'setTimeout(() => {}, "soon");',
      'print(String(b) + id + env);',
      '',
    ].join('\n'),
    'fine.ts': "import path from 'node:path';\nprint(path.join('a', 'b') + Buffer.byteLength('x') + process.uptime());\n",
  });
  made.push(root);

  it('gets exactly the diagnostics TypeScript gives with the declaration files as written', () => {
    const { diagnostics } = checker.createSiteChecker(root).check();
    expect(ours(diagnostics)).toEqual(reference(root, ['files.ts', 'globals.ts', 'fine.ts']));
  });
  it('checks the calls of a script importing node:fs, and knows Buffer, process and crypto in one importing nothing', () => {
    const { diagnostics } = checker.createSiteChecker(root).check();
    const of = (file: string): string[] => diagnostics.filter((d) => path.basename(d.file) === file).map((d) => `${d.line}:${d.column} TS${d.code} ${d.message.split('\n')[0]}`);
    expect(of('fine.ts')).toEqual([]);
    const files = of('files.ts');
    expect(files[0]).toBe("2:7 TS2322 Type 'number' is not assignable to type 'string'.");
    expect(files[1]).toMatch(/^3:23 TS2769 No overload matches this call\./);
    expect(files).toHaveLength(2);
    const globals = of('globals.ts');
    expect(globals).toContain("1:7 TS2322 Type 'Buffer<ArrayBuffer>' is not assignable to type 'number'.");
    // The template literal type of @types/node's crypto, read from the stripped file.
    expect(globals).toContain("2:7 TS2322 Type '`${string}-${string}-${string}-${string}-${string}`' is not assignable to type 'number'.");
    expect(globals.some((d) => /^3:9 TS2551 Property 'exitt' does not exist on type 'Process'\. Did you mean 'exit'\?/.test(d))).toBe(true);
    expect(globals).toContain("4:7 TS2322 Type 'string | undefined' is not assignable to type 'number'.");
    expect(globals.some((d) => d.startsWith('5:'))).toBe(true);
  });
});

describe('@types/node: only the modules a site names are read', () => {
  const nodeTypes = path.dirname(require.resolve('@types/node/package.json'));
  const index = path.join(nodeTypes, 'index.d.ts');
  const parse = (text: string): ts.SourceFile => t.createSourceFile('site.ts', text, t.ScriptTarget.Latest, false, t.ScriptKind.TS);

  it('always reads the files declaring globals, and a module once a string of the program names it', () => {
    const decl = nodeDecl.nodeDeclarations(t, (f) => (fs.existsSync(f) ? checker.withoutComments(t, fs.readFileSync(f, 'utf8')) : undefined));
    const first = decl.index(index)!;
    expect(first.text).toContain('/// <reference lib="es2020" />');
    for (const always of ['globals.d.ts', 'process.d.ts', 'buffer.d.ts', 'web-globals/fetch.d.ts', 'timers.d.ts']) expect(first.text).toContain(`path="${always}"`);
    for (const never of ['inspector.generated.d.ts', 'http2.d.ts', 'test.d.ts', 'repl.d.ts', 'wasi.d.ts']) expect(first.text).not.toContain(never);
    // A comment or a name that is not a string names nothing.
    expect(decl.mention(parse('// import "node:http2"\nconst http2 = 1;'))).toBe(false);
    expect(decl.index(index)).toBe(first);
    expect(decl.mention(parse("const m = process.getBuiltinModule(`node:inspector`);"))).toBe(true);
    const second = decl.index(index)!;
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.text).toContain('inspector.generated.d.ts');
    expect(second.text).not.toContain('http2.d.ts');
    // Fewer files than the index has.
    const all = fs.readFileSync(index, 'utf8').match(/<reference path=/g)!.length;
    expect(first.text.match(/<reference path=/g)!.length).toBeLessThan(all - 10);
  });

  it('gives a site naming rarely used modules, in imports, import types, getBuiltinModule and augmentations, TypeScript\'s diagnostics with all of @types/node', () => {
    const files: Record<string, string> = {
      'h2.ts': "import http2 from 'node:http2';\nconst s: number = http2.connect('https://x');\nprint(String(s));\n",
      'insp.ts': "import type { Session } from 'inspector';\nconst s: Session | number = 'x';\nprint(String(s));\n",
      'builtin.ts': "const wasi = process.getBuiltinModule('node:wasi');\nconst n: number = new wasi.WASI({ version: 'preview1' });\nprint(String(n));\n",
      'typeof.ts': "type T = typeof import('node:trace_events');\nconst x: T = 42;\nprint(String(x));\n",
      'augment.d.ts': "declare module 'node:repl' { interface ReplOptions { extra: number } }\n",
      'uses-augment.ts': "import repl from 'node:repl';\nconst o: repl.ReplOptions = { prompt: '>' };\nprint(String(o));\n",
      'process.ts': "const ch: number = process.channel;\nprocess.send?.('x', undefined, {}, (e: Error | null) => {});\nprint(String(ch));\n",
    };
    const root = tempSite(files);
    made.push(root);
    const names = Object.keys(files).filter((f) => !f.endsWith('.d.ts'));
    const { diagnostics } = checker.createSiteChecker(root).check(names.map((f) => path.join(root, f)));
    const got = ours(diagnostics);
    const want = reference(root, [...names, 'augment.d.ts']).filter((d) => !d.startsWith('augment.d.ts'));
    expect(got).toEqual(want);
    // Each file has its error, read from the module it names.
    for (const f of ['h2.ts', 'insp.ts', 'builtin.ts', 'typeof.ts', 'uses-augment.ts', 'process.ts']) expect(got.some((d) => d.startsWith(f + ':')), f).toBe(true);
    expect(got.join('\n')).toContain('ClientHttp2Session');
  });

  it('reads a module a script names after an edit', () => {
    const root = tempSite({ 'a.ts': "print('a');\n" });
    made.push(root);
    const site = checker.createSiteChecker(root);
    expect(site.check().diagnostics).toEqual([]);
    fs.writeFileSync(path.join(root, 'b.ts'), "import { run } from 'node:test';\nconst r: string = run();\nprint(r);\n");
    const after = ours(site.check().diagnostics);
    expect(after).toEqual(reference(root, ['a.ts', 'b.ts']));
    expect(after.join('\n')).toMatch(/^b\.ts:2:7 TS2322 Type 'TestsStream' is not assignable to type 'string'/m);
  });
});
