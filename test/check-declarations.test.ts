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

  /** TypeScript itself, with the declaration files as written: the reference. */
  function reference(): string[] {
    const options = t.convertCompilerOptionsFromJson(checker.DEFAULT_COMPILER_OPTIONS, root).options;
    const scripts = ['files.ts', 'globals.ts', 'fine.ts'].map((f) => path.join(fs.realpathSync(root), f));
    const program = t.createProgram({ rootNames: [checker.GLOBALS_FILE, ...scripts], options });
    return [...program.getGlobalDiagnostics(), ...scripts.flatMap((f) => [...program.getSyntacticDiagnostics(program.getSourceFile(f)), ...program.getSemanticDiagnostics(program.getSourceFile(f))])]
      .filter((d) => d.category === t.DiagnosticCategory.Error)
      .map((d) => {
        const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start!);
        return `${path.basename(d.file!.fileName)}:${line + 1}:${character + 1} TS${d.code} ${t.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
  }

  it('gets exactly the diagnostics TypeScript gives with the declaration files as written', () => {
    const { diagnostics } = checker.createSiteChecker(root).check();
    const ours = diagnostics.map((d) => `${path.basename(d.file)}:${d.line}:${d.column} TS${d.code} ${d.message}`);
    expect(ours).toEqual(reference());
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
