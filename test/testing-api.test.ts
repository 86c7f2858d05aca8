/**
 * `karrigell-ts/testing` (SPEC §12): testSite(root, options?) starts a site
 * in-process; get/post (fields, { json }, FormData) answer
 * { status, headers, text, json() }; one site is one visitor whose cookies are
 * kept; site.visitor() is another; close() stops it. Imported by the package's
 * own name, as a user's test does (package.json `exports`).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { testSite, type TestSite } from 'karrigell-ts/testing';
import { PROJECT, tempSite } from './helpers.js';

let site: TestSite;

beforeAll(async () => {
  const root = tempSite({
    'count.ts': 'const so = Session();\nso.n = (so.n ?? 0) + 1;\nprint(`n=${so.n}`);\n',
    'echo.ts': 'RESPONSE.headers["content-type"] = "application/json";\nprint(JSON.stringify({ method: REQUEST_HANDLER.method, fields: Object.fromEntries(Object.entries(QUERY).map(([k, v]) => [k, typeof v === "object" && v && "filename" in v ? { filename: v.filename, size: v.size } : v])) }));\n',
    'api.ts': 'export function add(f: Record<string, unknown>) { return { sum: Number(f.a) + Number(f.b) }; }\nexport function fail() { HTTP_ERROR(409, "taken"); }\n',
    'go.ts': "HTTP_REDIRECTION('/count');\n",
    'logout.ts': "SET_COOKIE('flag', '', { maxAge: 0 });\nprint('bye');\n",
    'flag.ts': "SET_COOKIE('flag', 'on');\nprint(COOKIE.flag ?? 'none');\n",
  });
  site = await testSite(root, { production: true });
});
afterAll(async () => site?.close());

describe('testSite', () => {
  it('get: status, headers, text', async () => {
    const r = await site.get('/count');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.text).toBe('n=1\n');
    expect((await site.get('/missing')).status).toBe(404);
  });

  it('one site is one visitor: its cookies are kept (the session goes on); visitor() starts another', async () => {
    expect((await site.get('/count')).text).toBe('n=2\n');
    expect(site.cookies().sessionId).toMatch(/\S{20,}/);
    const other = site.visitor();
    expect(other.cookies()).toEqual({});
    expect((await other.get('/count')).text).toBe('n=1\n');
    expect((await site.get('/count')).text).toBe('n=3\n');
    expect((await other.get('/count')).text).toBe('n=2\n');
  });

  it('a cookie set with Max-Age=0 is forgotten', async () => {
    const v = site.visitor();
    expect((await v.get('/flag')).text).toBe('none\n');
    expect((await v.get('/flag')).text).toBe('on\n');
    await v.get('/logout');
    expect(v.cookies().flag).toBeUndefined();
  });

  it('post: form fields (lists as name[]), { json }, FormData with a file', async () => {
    const form = await site.post('/echo', { a: '1', 'tags[]': ['x', 'y'], n: 3 });
    expect(form.json()).toEqual({ method: 'POST', fields: { a: '1', tags: ['x', 'y'], n: '3' } });
    const json = await site.post('/echo', { json: { count: 2, ok: true } });
    expect(json.json()).toEqual({ method: 'POST', fields: { count: 2, ok: true } });
    const fd = new FormData();
    fd.append('title', 'report');
    fd.append('file', new Blob(['hello file']), 'notes.txt');
    expect((await site.post('/echo', fd)).json()).toEqual({ method: 'POST', fields: { title: 'report', file: { filename: 'notes.txt', size: 10 } } });
    expect((await site.request('PUT', '/echo', { json: { x: 1 } })).json().method).toBe('PUT');
  });

  it('services: json() of the answer, JSON errors; redirects are not followed', async () => {
    expect((await site.get('/api/add?a=2&b=3')).json()).toEqual({ sum: 5 });
    const fail = await site.post('/api/fail', {});
    expect(fail.status).toBe(409);
    expect(fail.json()).toEqual({ error: 'taken', status: 409 });
    const go = await site.get('/go');
    expect(go.status).toBe(302);
    expect(go.headers.get('location')).toBe('/count');
  });

  it('json() of a body that is not JSON says what came instead', async () => {
    const r = await site.get('/count');
    expect(() => r.json()).toThrow(/GET \/count answered 200 text\/html.*not JSON: n=/);
  });

  it('close() stops the server', async () => {
    const other = await testSite(tempSite({ 'a.ts': "print('a');\n" }));
    expect((await other.get('/a')).text).toBe('a\n');
    await other.close();
    await expect(fetch(other.url + '/a')).rejects.toThrow();
  });

  it('package.json exports karrigell-ts/testing with its types', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('karrigell-ts/testing'); console.log(typeof m.testSite, import.meta.resolve('karrigell-ts/testing'))"], { cwd: PROJECT, encoding: 'utf8' });
    expect(out).toMatch(/^function file:.*\/dist\/testing\.js/);
    const pkg = JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json").exports["./testing"])'], { cwd: PROJECT, encoding: 'utf8' }));
    expect(pkg).toEqual({ types: './dist/testing.d.ts', default: './dist/testing.js' });
  });
});
