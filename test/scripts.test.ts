/** Page scripts (SPEC §3): per-request top-level code, imports, packages, services and their return values. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import { tempSite, startServer, rawRequest, outside, writeFiles, type Running } from './helpers.js';
import { expectServerErrors } from './setup.js';

expectServerErrors(/Compile error in GET \/(no-local|broken)/, /cycle/i);

const TEXT = 'RESPONSE.headers["content-type"] = "text/plain";\n';

let root: string;
let srv: Running;

beforeAll(async () => {
  root = tempSite({
    'counter.ts': `${TEXT}import { next } from "./_lib/counter.ts";\nlet local: number = 0;\nlocal++;\nprint("local=" + local, "shared=" + next());\n`,
    'counter2.ts': `${TEXT}import { next, evaluations } from "./_lib/counter";\nprint("shared=" + next(), "evaluations=" + evaluations());\n`,
    '_lib/counter.ts': 'let count: number = 0;\nlet evaluated = 0;\nevaluated++;\nexport function next(): number { return ++count; }\nexport function evaluations(): number { return evaluated; }\n',
    'tla.ts': `${TEXT}const value: string = await new Promise<string>((resolve) => setTimeout(() => resolve("awaited-" + (QUERY.x ?? "none")), 20));\nprint(value);\n`,
    'rel/page.ts': `${TEXT}import { greet } from "../_lib/greet.ts";\nimport { shout } from "./_helpers/shout";\nimport data from "./_helpers/data.json";\nprint(shout(greet("Ann")), data.answer);\n`,
    '_lib/greet.ts': 'export const greet = (name: string): string => `hello ${name}`;\n',
    'rel/_helpers/shout.ts': 'export function shout(s: string): string { return s.toUpperCase() + "!"; }\n',
    'rel/_helpers/data.json': '{"answer": 42}\n',
    'builtins.ts': `${TEXT}import { createHash } from "node:crypto";\nimport path from "node:path";\nimport * as os from "node:os";\nprint(createHash("sha1").update("abc").digest("hex"), path.posix.join("a", "b"), typeof os.platform());\n`,
    'pkgs.ts': `${TEXT}import { hello, version } from "fake-esm";\nimport { extra } from "fake-esm/extra";\nimport cjs from "fake-cjs";\nprint(hello("x"), version, extra(), cjs.shout("cjs"), cjs.counter());\n`,
    'deep/er/pkgs.ts': `${TEXT}import { hello } from "fake-esm";\nimport cjs from "fake-cjs";\nimport local from "local-only";\nprint(hello("deep"), cjs.counter(), local);\n`,
    'deep/node_modules/local-only/package.json': '{"name":"local-only","type":"module","exports":"./index.js"}\n',
    'deep/node_modules/local-only/index.js': 'export default "local-only-pkg";\n',
    'no-local.ts': `${TEXT}import local from "local-only";\nprint(local);\n`,
    'node_modules/fake-esm/package.json': JSON.stringify({ name: 'fake-esm', version: '1.2.3', type: 'module', exports: { '.': './lib/main.js', './extra': './lib/extra.js' } }),
    'node_modules/fake-esm/lib/main.js': 'export const version = "esm-1.2.3";\nexport function hello(n) { return "esm-hello-" + n; }\n',
    'node_modules/fake-esm/lib/extra.js': 'export function extra() { return "esm-extra"; }\n',
    'node_modules/fake-esm/index.js': 'export function hello() { return "WRONG-ENTRY"; }\n',
    // services
    'svc.ts': [
      'export function index(fields: Record<string, unknown>): string { return "index:" + String(fields.x ?? "") + ":" + REQUEST_HANDLER.method; }',
      'export function hello(fields: { name?: string }): string { return "hello " + fields.name; }',
      'export async function later(fields: { n?: string }): Promise<string> { await new Promise((r) => setTimeout(r, 5)); return "later " + fields.n; }',
      'export function _secret(): string { return "PRIVATE-SERVICE-RAN"; }',
      'export function json(): object { return { a: 1, b: [true, null, "x"], c: { d: "é" } }; }',
      'export function list(): unknown[] { return [1, "two", { three: 3 }]; }',
      'export function bytes(): Uint8Array { return new Uint8Array([0, 1, 2, 254, 255]); }',
      'export function buffer(): Buffer { return Buffer.from("buffer-body"); }',
      'export function png(): Uint8Array { RESPONSE.headers["Content-Type"] = "image/png"; return new Uint8Array([137, 80, 78, 71]); }',
      'export function response(): Response { return new Response("teapot body", { status: 418, headers: { "x-custom": "yes", "content-type": "text/x-custom" } }); }',
      'export function printed(fields: { who?: string }): void { print("printed by", fields.who); }',
      'export function created(): object { RESPONSE.status = 201; return { ok: true }; }',
      'export function args(): string { return JSON.stringify(THIS.args); }',
      'export const notAFunction = 5;',
      'print("TOP-LEVEL-OF-SVC");',
    ].join('\n'),
    'plain.ts': 'print("<p>default type</p>");\n',
    'jsext.ts': `${TEXT}import { greet } from "./_lib/greet.js";\nprint(greet("js-specifier"));\n`,
    'types-only.ts': `${TEXT}import type { Pt } from "./_lib/types.ts";\nimport { type Id, ORIGIN } from "./_lib/types.ts";\nconst p: Pt = { x: ORIGIN.x + 1 };\nconst id: Id = "id-1";\nprint("types", p.x, id);\n`,
    '_lib/types.ts': 'export interface Pt { x: number }\nexport type Id = string;\nexport const ORIGIN: Pt = { x: 0 };\n',
    'meta.ts': `${TEXT}print("meta", import.meta.dirname === THIS.dir, new URL(import.meta.url).pathname === THIS.path);\n`,
    'dyn.ts': `${TEXT}const p = await import("node:path");\nprint("dyn", p.basename("/a/b.txt"));\n`,
    'cycle.ts': `${TEXT}import { isEven } from "./_lib/even.ts";\nprint("even", isEven(10), isEven(7));\n`,
    '_lib/even.ts': 'import { isOdd } from "./odd.ts";\nexport function isEven(n: number): boolean { return n === 0 ? true : isOdd(n - 1); }\n',
    '_lib/odd.ts': 'import { isEven } from "./even.ts";\nexport function isOdd(n: number): boolean { return n === 0 ? false : isEven(n - 1); }\n',
  });
  writeFiles(outside(root), {
    'node_modules/fake-cjs/package.json': '{"name":"fake-cjs","main":"main.js"}\n',
    'node_modules/fake-cjs/main.js': 'let n = 0;\nmodule.exports = { shout: (s) => s.toUpperCase() + "!", counter: () => ++n };\n',
  });
  srv = await startServer(root);
});

afterAll(async () => {
  await srv?.close();
});

const get = (p: string, init: RequestInit = {}): Promise<Response> => fetch(srv.url + p, { redirect: 'manual', ...init });
const text = async (p: string, init?: RequestInit): Promise<string> => {
  const res = await get(p, init);
  const body = await res.text();
  expect(res.status, `${p}: ${body.slice(0, 500)}`).toBe(200);
  return body;
};

describe('top-level code and modules', () => {
  it('top-level code runs on every request, imported modules are evaluated once and shared', async () => {
    const a = await text('/counter');
    const b = await text('/counter');
    const c = await text('/counter.ts');
    const shared = [a, b, c].map((t) => Number(/shared=(\d+)/.exec(t)?.[1]));
    for (const t of [a, b, c]) expect(t).toContain('local=1');
    expect(shared[1]).toBe(shared[0]! + 1);
    expect(shared[2]).toBe(shared[0]! + 2);
    // another page importing the same module (without extension) shares the same instance
    const d = await text('/counter2');
    expect(d).toContain(`shared=${shared[2]! + 1}`);
    expect(d).toContain('evaluations=1');
  });

  it('top-level await works', async () => {
    expect(await text('/tla?x=7')).toContain('awaited-7');
  });

  it('relative imports (../, ./ without extension, JSON)', async () => {
    expect(await text('/rel/page')).toContain('HELLO ANN! 42');
  });

  it('node: built-ins', async () => {
    expect(await text('/builtins')).toContain('a9993e364706816aba3e25717850c26c9cd0d89d a/b string');
  });

  it('packages: ESM with exports (and a subpath), CommonJS from a node_modules above ROOT', async () => {
    const t = await text('/pkgs');
    expect(t).toContain('esm-hello-x esm-1.2.3 esm-extra CJS!');
    expect(t).not.toContain('WRONG-ENTRY');
  });

  it('packages are resolved from the script folder upwards and shared', async () => {
    const first = Number(/CJS! (\d+)/.exec(await text('/pkgs'))?.[1]);
    const deep = await text('/deep/er/pkgs');
    expect(deep).toContain('esm-hello-deep');
    expect(deep).toContain('local-only-pkg');
    expect(deep).toContain(`esm-hello-deep ${first + 1} `);
    // a package of a subfolder is not visible from ROOT's own scripts
    const res = await get('/no-local');
    expect(res.status).toBe(500);
    await res.arrayBuffer();
  });

  it('TypeScript idioms: a .js specifier for a .ts file, type-only imports', async () => {
    expect(await text('/jsext')).toContain('hello js-specifier');
    expect(await text('/types-only')).toContain('types 1 id-1');
  });

  it('import.meta and a dynamic import of a built-in', async () => {
    expect(await text('/meta')).toContain('meta true true');
    expect(await text('/dyn')).toContain('dyn b.txt');
  });

  // Known limitation (README): modules are evaluated eagerly with their imports bound first, so a
  // cycle between a site's own modules cannot be linked; it must be reported clearly, naming the cycle.
  it('modules importing each other (a cycle) give a clear error naming the cycle, and the server goes on', async () => {
    const res = await get('/cycle');
    const body = await res.text();
    expect(res.status).toBe(500);
    expect(body).toContain('circular import: even.ts → odd.ts → even.ts');
    expect(await text('/counter')).toBeTruthy();
  });

  it('a script prints text/html by default', async () => {
    const res = await get('/plain');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<p>default type</p>');
  });
});

describe('services', () => {
  it('GET /svc redirects 302 to /svc/index, query kept', async () => {
    const res = await get('/svc');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/(^|\/\/[^/]+)\/svc\/index$/);
    const q = await get('/svc?x=1&y=a%20b');
    expect(q.status).toBe(302);
    expect(q.headers.get('location')).toMatch(/(^|\/\/[^/]+)\/svc\/index\?x=1&y=a%20b$/);
  });

  it('/svc/index is called with the fields', async () => {
    expect(await text('/svc/index?x=5')).toContain('index:5:GET');
  });

  it('POST /svc calls index', async () => {
    const res = await get('/svc', { method: 'POST', body: new URLSearchParams({ x: '9' }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('index:9:POST');
  });

  it('/svc/NAME calls NAME(fields); string → text/html', async () => {
    const res = await get('/svc/hello?name=Ann');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('hello Ann');
    expect(await text('/svc/later?n=3')).toContain('later 3');
  });

  // Regression: statOf() used to throw ENOTDIR for `svc.ts/hello`.
  it('/svc.ts/NAME (script named with its extension) calls the service', async () => {
    expect(await text('/svc.ts/hello?name=Bob')).toContain('hello Bob');
  });

  it('_private exports are 404 and never run', async () => {
    const res = await get('/svc/_secret');
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('PRIVATE-SERVICE-RAN');
  });

  it('unknown names and non-function exports are 404', async () => {
    expect((await get('/svc/nope')).status).toBe(404);
    expect((await get('/svc/notAFunction')).status).toBe(404);
  });

  it('plain object and array → JSON', async () => {
    const res = await get('/svc/json');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ a: 1, b: [true, null, 'x'], c: { d: 'é' } });
    const list = await get('/svc/list');
    expect(list.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await list.json()).toEqual([1, 'two', { three: 3 }]);
  });

  it('Uint8Array and Buffer → binary, application/octet-stream unless the script set a type', async () => {
    const res = await get('/svc/bytes');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 1, 2, 254, 255]);
    const buf = await get('/svc/buffer');
    expect(buf.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await buf.arrayBuffer()).toString()).toBe('buffer-body');
    const png = await get('/svc/png');
    expect(png.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await png.arrayBuffer())]).toEqual([137, 80, 78, 71]);
  });

  it('a web Response is used as is (status, headers, body)', async () => {
    const res = await get('/svc/response');
    expect(res.status).toBe(418);
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(res.headers.get('content-type')).toBe('text/x-custom');
    expect(await res.text()).toBe('teapot body');
  });

  it('undefined → the printed output', async () => {
    const t = await text('/svc/printed?who=me');
    expect(t).toContain('printed by me');
  });

  it('RESPONSE.status set by a service is used', async () => {
    const res = await get('/svc/created');
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('segments after the service name are THIS.args', async () => {
    expect(await text('/svc/args/a/b')).toContain('["a","b"]');
  });

  it('HEAD of a service sends no body', async () => {
    const res = await rawRequest(srv.url, '/svc/hello?name=x', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });
});

it('the fixture paths are absolute', () => {
  expect(path.isAbsolute(root)).toBe(true);
});
