/**
 * The production start compiles the whole site in one esbuild build for the
 * pages and one for the private modules (compile.ts compileBatch). A batch
 * gives exactly what compileFile gives for each file: the ES-module pass in a
 * `"type": "commonjs"` project, the module defines and the second build of
 * the request names (`_name` shortcuts), the `.tsp` and `.tsx` passes, error
 * positions in the user's file. A broken file still lists every failure.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from '../dist/index.js';
import { compileBatch, compileFile, releaseCompiler, type CompiledUnit } from '../dist/script/compile.js';
import { expectServerErrors } from './setup.js';
import { tempSite } from './helpers.js';

expectServerErrors(/Error in GET \/throws/, /^\s*\d+ \|/, /^>\s*\d+ \|/, /^\s*\|\s*\^/, /^Error: thrown on line 3/, /^\s+at /);

/** A site that uses each thing compileFile does (issue 13 and before), in a CommonJS project. */
const SITE: Record<string, string> = {
  '../package.json': '{ "name": "site", "type": "commonjs" }\n',
  // A page without import or export: CommonJS to esbuild unless made ESM.
  'plain.ts': 'const n: number = Number(QUERY.n ?? 2);\nprint(`<p>plain ${n * 2}</p>`);\n',
  // A service: exported functions; the default export is the page.
  'service.ts': 'export function add(f: { a: string; b: string }) { return { sum: Number(f.a) + Number(f.b) }; }\nexport function index() { return "<p>service index</p>"; }\n',
  'uses.ts':
    'import path from "node:path";\n' +
    'import { who, count } from "./_lib/names.ts";\n' +
    'import * as all from "./_lib/reexport.ts";\n' +
    'import data from "./_lib/data.json";\n' +
    'import "./_lib/side.ts";\n' +
    'print(`<p>${who()} ${count()} ${all.twice(4)} ${all.label} ${data.answer} ${path.basename(import.meta.filename)}</p>`);\n',
  'shortcut.ts': 'import { fromShortcut, withLocal } from "./_lib/short.ts";\nprint(`<p>${fromShortcut()} ${withLocal()}</p>`);\n',
  'table.tsp': '<!doctype html>\n<h1><%= QUERY.t ?? "table" %></h1>\n<% const rows: number[] = [1, 2, 3]; %>\n<ul><% for (const r of rows) { %><li><%= r * 10 %></li><% } %></ul>\n',
  'comp.tsx': 'import { label } from "./_lib/plain.ts";\nfunction Item({ v }: { v: string }) {\n  return <li>{v}</li>;\n}\n<h1>{label}</h1>;\n<ul>{["x", "y"].map((v) => <Item v={v} />)}</ul>;\n',
  'throws.ts': '// a comment\nconst why: string = "thrown on line 3";\nthrow new Error(why);\n',
  'sub/deep.ts': 'import { label } from "../_lib/plain.ts";\nprint(`<p>${label} deep</p>`);\n',
  // Modules: the names of a page's scope read the request in progress.
  '_lib/names.ts': 'export function who() { return QUERY.name ?? "nobody"; }\nexport function count() { const s = Session(); s.n = ((s.n as number) ?? 0) + 1; return s.n; }\n',
  '_lib/short.ts': 'export function fromShortcut() { return _name ?? "no name"; }\nexport function withLocal() { const _name = "local"; return _name; }\n',
  '_lib/plain.ts': 'export const label: string = "plain label";\nexport function twice(x: number) { return x * 2; }\n',
  '_lib/reexport.ts': 'export * from "./plain.ts";\n',
  '_lib/side.ts': 'globalThis.sideEffect = (globalThis.sideEffect ?? 0) + 1;\n',
  '_lib/data.json': '{ "answer": 42 }\n',
  // Compiled as a module to check it; included as a page (compiled when first included).
  '_inc/part.tsx': '<i>part</i>;\n',
  'include.ts': 'print("<div>");\nawait Include("_inc/part.tsx");\nprint("</div>");\n',
};

/** What a unit is, without its factory (a function: compared through the code it is made from). */
const shape = (u: CompiledUnit) => ({
  file: u.file,
  mode: u.mode,
  imports: u.imports,
  exportNames: u.exportNames,
  map: u.map,
  lineOneOffset: u.lineOneOffset,
  code: u.code,
  head: u.head,
  used: [...u.used].sort(),
  bound: [...u.bound].sort(),
  requestNames: u.requestNames,
});

const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  await releaseCompiler();
});

describe('production start: one build for the site', () => {
  it('a batch gives, file by file, exactly the unit compileFile gives (pages and modules)', async () => {
    const root = tempSite(SITE);
    const pages = Object.keys(SITE).filter((f) => /\.(tsx?|tsp)$/.test(f) && !f.startsWith('_')).map((f) => path.join(root, f));
    const modules = Object.keys(SITE).filter((f) => /^_.*\.(tsx?|tsp)$/.test(f)).map((f) => path.join(root, f));
    for (const [files, mode] of [[pages, 'page'], [modules, 'module']] as const) {
      const batch = await compileBatch(files, mode);
      expect([...batch.keys()].sort()).toEqual([...files].sort());
      for (const file of files) expect(shape(batch.get(file)!), `${mode} ${file}`).toEqual(shape(await compileFile(file, mode)));
    }
    // The checks above would pass on units that lack what they are checked for: a few direct looks.
    const modulesBatch = await compileBatch(modules, 'module');
    expect(modulesBatch.get(path.join(root, '_lib/names.ts'))!.requestNames).toBe(true);
    expect(modulesBatch.get(path.join(root, '_lib/short.ts'))!.code).toContain('__kts_r.__q._name');
    expect(modulesBatch.get(path.join(root, '_lib/plain.ts'))!.requestNames).toBe(false);
    const pagesBatch = await compileBatch(pages, 'page');
    expect(pagesBatch.get(path.join(root, 'comp.tsx'))!.code).toContain('print(');
    expect(pagesBatch.get(path.join(root, 'plain.ts'))!.code).not.toContain('require_');
  });

  it('two pages whose names differ only by extension (a.ts, a.tsp) compile in one batch', async () => {
    const root = tempSite({ 'a.ts': 'print("ts");\n', 'a.tsp': 'tsp <%= 1 + 1 %>\n', 'sub/a.ts': 'print("sub");\n' });
    const files = ['a.ts', 'a.tsp', 'sub/a.ts'].map((f) => path.join(root, f));
    const batch = await compileBatch(files, 'page');
    expect(batch.size).toBe(3);
    for (const file of files) expect(shape(batch.get(file)!)).toEqual(shape(await compileFile(file, 'page')));
  });

  it('every page answers the same after a production start as in development', async () => {
    const root = tempSite(SITE);
    const dev = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true });
    servers.push(dev);
    const logs: string[] = [];
    const prod = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true }, { access() {}, info() {}, error: (m: string) => void logs.push(m) });
    servers.push(prod);
    const urls = ['/plain?n=21', '/service/index', '/service/add?a=2&b=3', '/uses?name=ann', '/shortcut?name=bob', '/shortcut', '/table?t=T', '/comp', '/sub/deep', '/include'];
    for (const u of urls) {
      const [d, p] = await Promise.all([fetch(dev.url + u), fetch(prod.url + u)]);
      const devBody = (await d.text()).replace(/<script\b[\s\S]*?<\/script\s*>/gi, '');
      expect({ u, status: p.status, body: await p.text() }).toEqual({ u, status: d.status, body: devBody });
      expect(p.status, u).toBe(200);
    }
    // Spot checks that the answers compared above are the right ones.
    expect((await (await fetch(prod.url + '/uses?name=ann')).text()).trim()).toBe('<p>ann 1 8 plain label 42 uses.ts</p>');
    expect((await (await fetch(prod.url + '/shortcut?name=bob')).text()).trim()).toBe('<p>bob local</p>');
    expect(await (await fetch(prod.url + '/service/add?a=2&b=3')).json()).toEqual({ sum: 5 });
    // An error is located in the user's file, at its line and column.
    const res = await fetch(prod.url + '/throws');
    expect(res.status).toBe(500);
    await res.text();
    expect(logs.join('\n')).toContain('throws.ts:3:7');
  });

  it('a broken site lists every failure with its file, line and message, as file-by-file compiles do', async () => {
    const good = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}.ts`, `print("<p>${i}</p>");\n`]));
    const root = tempSite({
      ...good,
      'bad1.ts': 'const x = ;\n',
      'sub/bad2.tsx': 'const y = <div>;\n',
      'bad3.tsp': '<p><%= (1 + %></p>\n',
      'imports-missing.ts': 'import { nothing } from "./_lib/missing.ts";\nprint(nothing);\n',
      '_lib/bad4.ts': 'export const = 1;\n',
      '_lib/fine.ts': 'export const fine = 1;\n',
    });
    const err = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^5 scripts failed to compile:\n/);
    const lines = err!.message.split('\n').slice(1).map((l) => l.trim());
    expect(lines.map((l) => l.split(':')[0])).toEqual(['_lib/bad4.ts', 'bad1.ts', 'bad3.tsp', 'imports-missing.ts', 'sub/bad2.tsx']);
    expect(lines[1]).toMatch(/^bad1\.ts:1:11: /);
    expect(lines[3]).toMatch(/^imports-missing\.ts:1:\d+: .*missing/);
    // The same lines as compiling each broken file on its own.
    for (const [rel, mode] of [['bad1.ts', 'page'], ['sub/bad2.tsx', 'page'], ['bad3.tsp', 'page'], ['_lib/bad4.ts', 'module']] as const) {
      const alone = await compileFile(path.join(root, rel), mode).then(
        () => undefined,
        (e: { errors: { line: number; column: number; message: string }[] }) => e.errors[0]!,
      );
      expect(lines).toContain(`${rel}:${alone!.line}:${alone!.column}: ${alone!.message}`);
    }
    expect(fs.existsSync(root)).toBe(true);
  });
});
