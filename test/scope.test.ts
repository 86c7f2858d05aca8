/** Names in a script's scope (SPEC §4). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { tempSite, startServer, rawRequest, multipart, type Running } from './helpers.js';

const JSON_OUT = 'RESPONSE.headers["content-type"] = "application/json";\n';

let root: string;
let srv: Running;

beforeAll(async () => {
  root = tempSite({
    'fields.ts': `${JSON_OUT}const same: boolean = QUERY === REQUEST;\nconst out: Record<string, unknown> = {};\nfor (const [k, v] of Object.entries(QUERY)) {\n  const f = v as { filename?: string; type?: string; size?: number; data?: Buffer };\n  out[k] = f && typeof f === "object" && "data" in f && Buffer.isBuffer(f.data)\n    ? { filename: f.filename, type: f.type, size: f.size, hex: f.data.toString("hex") }\n    : Array.isArray(v) ? v.map((x: any) => (x && Buffer.isBuffer(x.data) ? { filename: x.filename, size: x.size, text: x.data.toString() } : x)) : v;\n}\nprint(JSON.stringify({ same, fields: out, types: Object.fromEntries(Object.entries(QUERY).map(([k, v]) => [k, Array.isArray(v) ? "array" : v === null ? "null" : typeof v])) }));\n`,
    'short.ts': `${JSON_OUT}print(JSON.stringify({ name: _name ?? null, missing: typeof _missing_field, n: _n === undefined ? "undef" : _n }));\n`,
    'short-own.ts': `${JSON_OUT}const _name: string = "mine";\nfunction f(_n: string): string { return _n; }\nprint(JSON.stringify({ name: _name, n: f("param"), other: _other ?? null }));\n`,
    'short-import.ts': `${JSON_OUT}import { _name } from "./_lib/names.ts";\nprint(JSON.stringify({ name: _name, city: _city ?? null }));\n`,
    '_lib/names.ts': 'export const _name: string = "imported";\n',
    'headers.ts': `${JSON_OUT}print(JSON.stringify({ custom: HEADERS["x-custom-thing"], upper: (HEADERS as Record<string, unknown>)["X-Custom-Thing"] ?? null, keys: Object.keys(HEADERS) }));\n`,
    'cookies.ts': `${JSON_OUT}print(JSON.stringify(COOKIE));\n`,
    'setcookie.ts': 'SET_COOKIE("first", "a b;c", { httpOnly: true, maxAge: 60, sameSite: "strict", path: "/x" });\nSET_COOKIE("second", "2", { secure: true, domain: "example.com", expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) });\nprint("cookies set");\n',
    'response.ts': 'RESPONSE.status = 201;\nRESPONSE.headers["Content-Type"] = "text/plain; charset=utf-8";\nRESPONSE.headers["X-Mixed-Case"] = "one";\nRESPONSE.headers["x-mixed-case"] = "two";\nprint("lower=" + RESPONSE.headers["content-type"], "mixed=" + RESPONSE.headers["X-MIXED-CASE"]);\n',
    'sub/this.ts': `${JSON_OUT}print(JSON.stringify(THIS));\n`,
    'handler.ts': `${JSON_OUT}const h = REQUEST_HANDLER;\nprint(JSON.stringify({ method: h.method, client: h.clientAddress, version: h.httpVersion, req: typeof h.req.on, res: typeof h.res.setHeader, url: h.req.url }));\n`,
    'langs.ts': `${JSON_OUT}print(JSON.stringify(ACCEPTED_LANGUAGES));\n`,
    'print.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nprint("a", 1, true, null);\nprint("second");\nprint(html`<b>${"x"}</b>`);\nprint("é ü 日本");\n',
    'login.ts': 'SET_COOKIE("sid", "abc");\nRESPONSE.headers["X-Before"] = "kept";\nHTTP_REDIRECTION("/next");\n',
    'html.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nconst evil: string = String(QUERY.v ?? "<script>alert(\'x\')</script>&\\"");\nprint(html`<p title="${evil}">${evil}</p>`);\nprint(html`<div>${raw("<i>trusted</i>")}</div>`);\nprint(html`<span>${42}</span>`);\n',
    'redirect.ts': 'print("before redirect");\nif (QUERY.mode === "throw") throw new HTTP_REDIRECTION("/thrown-target", 303);\nif (QUERY.mode === "301") HTTP_REDIRECTION("/permanent", 301);\nHTTP_REDIRECTION("/target?a=1");\nprint("AFTER-REDIRECT");\n',
    'error.ts': 'print("PRINTED-BEFORE-ERROR");\nif (QUERY.mode === "msg") HTTP_ERROR(403, "go away, " + QUERY.who);\nif (QUERY.mode === "throw") throw new HTTP_ERROR(503);\nHTTP_ERROR(404);\nprint("AFTER-ERROR");\n',
    'end.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nprint("before end");\nfunction stop(): void { SCRIPT_END(); }\nstop();\nprint("AFTER-END");\n',
    'end-async.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nprint("one");\nawait new Promise((r) => setTimeout(r, 5));\nprint("two");\nSCRIPT_END();\nprint("AFTER-END");\n',
  });
  srv = await startServer(root);
});

afterAll(async () => {
  await srv?.close();
});

interface FieldsOut {
  same: boolean;
  fields: Record<string, unknown>;
  types: Record<string, string>;
}

async function fieldsOf(p: string, init: RequestInit = {}): Promise<FieldsOut> {
  const res = await fetch(srv.url + p, init);
  const body = await res.text();
  expect(res.status, body.slice(0, 400)).toBe(200);
  return JSON.parse(body) as FieldsOut;
}

describe('QUERY / REQUEST', () => {
  it('query string fields, REQUEST is the same object', async () => {
    const r = await fieldsOf('/fields?a=1&b=two%20words&c=%C3%A9');
    expect(r.same).toBe(true);
    expect(r.fields).toEqual({ a: '1', b: 'two words', c: 'é' });
  });

  it('x[] gives an array under x, a repeated name keeps the last value', async () => {
    const r = await fieldsOf('/fields?x[]=1&x[]=2&x%5B%5D=3&y=first&y=last&one[]=only');
    expect(r.fields.x).toEqual(['1', '2', '3']);
    expect(r.fields.y).toBe('last');
    expect(r.fields.one).toEqual(['only']);
    expect(r.fields['x[]']).toBeUndefined();
  });

  it('url-encoded body, body fields win over query fields', async () => {
    const r = await fieldsOf('/fields?a=query&q=only-query', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=body&b=b%2Bplus+space&list[]=1&list[]=2',
    });
    expect(r.fields).toEqual({ a: 'body', q: 'only-query', b: 'b+plus space', list: ['1', '2'] });
  });

  it('multipart fields and uploads {filename, type, size, data: Buffer}', async () => {
    const data = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255]);
    const form = multipart([
      { name: 'title', value: 'my upload' },
      { name: 'a', value: 'from-body' },
      { name: 'file', filename: 'photo.bin', type: 'image/x-test', data },
      { name: 'docs[]', filename: 'one.txt', type: 'text/plain', data: Buffer.from('first doc') },
      { name: 'docs[]', filename: 'two.txt', type: 'text/plain', data: Buffer.from('second doc') },
    ]);
    const res = await rawRequest(srv.url, '/fields?a=from-query', { method: 'POST', headers: { 'content-type': form.type }, body: form.body });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const r = JSON.parse(res.text) as FieldsOut;
    expect(r.fields.title).toBe('my upload');
    expect(r.fields.a).toBe('from-body');
    expect(r.fields.file).toEqual({ filename: 'photo.bin', type: 'image/x-test', size: 10, hex: data.toString('hex') });
    expect(r.fields.docs).toEqual([
      { filename: 'one.txt', size: 9, text: 'first doc' },
      { filename: 'two.txt', size: 10, text: 'second doc' },
    ]);
  });

  it('a JSON object body keeps its types', async () => {
    const r = await fieldsOf('/fields?n=query', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: 5, f: 1.5, b: false, z: null, arr: [1, 'x'], o: { k: [true] }, s: 'text' }),
    });
    expect(r.fields).toEqual({ n: 5, f: 1.5, b: false, z: null, arr: [1, 'x'], o: { k: [true] }, s: 'text' });
    expect(r.types).toEqual({ n: 'number', f: 'number', b: 'boolean', z: 'null', arr: 'array', o: 'object', s: 'string' });
  });

  it('a JSON body with charset parameter is read too', async () => {
    const r = await fieldsOf('/fields', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"k":"v"}' });
    expect(r.fields).toEqual({ k: 'v' });
  });
});

describe('_field shortcuts', () => {
  it('_name is QUERY.name, undefined when absent', async () => {
    const a = await (await fetch(srv.url + '/short?name=Ann&n=3')).json();
    expect(a).toEqual({ name: 'Ann', missing: 'undefined', n: '3' });
    const b = await (await fetch(srv.url + '/short')).json();
    expect(b).toEqual({ name: null, missing: 'undefined', n: 'undef' });
  });

  it('_name comes from the body too', async () => {
    const a = await (await fetch(srv.url + '/short?name=query', { method: 'POST', body: new URLSearchParams({ name: 'body' }) })).json();
    expect(a.name).toBe('body');
  });

  it('a script declaring its own _name (or a parameter) uses its own', async () => {
    const a = await (await fetch(srv.url + '/short-own?name=from-query&n=q&other=o')).json();
    expect(a).toEqual({ name: 'mine', n: 'param', other: 'o' });
  });

  it('a script importing _name uses the import', async () => {
    const a = await (await fetch(srv.url + '/short-import?name=from-query&city=Paris')).json();
    expect(a).toEqual({ name: 'imported', city: 'Paris' });
  });
});

describe('HEADERS, COOKIE, SET_COOKIE', () => {
  it('HEADERS has lower-case names', async () => {
    const a = await (await fetch(srv.url + '/headers', { headers: { 'X-Custom-Thing': 'Val 1' } })).json();
    expect(a.custom).toBe('Val 1');
    expect(a.upper).toBeNull();
    for (const k of a.keys as string[]) expect(k).toBe(k.toLowerCase());
  });

  it('COOKIE has the percent-decoded values', async () => {
    const a = await (await fetch(srv.url + '/cookies', { headers: { cookie: 'a=hello%20world; b=2; c=%C3%A9t%C3%A9' } })).json();
    expect(a).toEqual({ a: 'hello world', b: '2', c: 'été' });
    const none = await (await fetch(srv.url + '/cookies')).json();
    expect(none).toEqual({});
  });

  it('SET_COOKIE adds Set-Cookie headers with the cookie package options', async () => {
    const res = await fetch(srv.url + '/setcookie');
    expect(await res.text()).toContain('cookies set');
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    const first = cookies.find((c) => c.startsWith('first='))!;
    expect(first).toBeDefined();
    expect(first.split(';')[0]).toBe('first=a%20b%3Bc');
    expect(first).toMatch(/;\s*HttpOnly/i);
    expect(first).toMatch(/;\s*Max-Age=60\b/);
    expect(first).toMatch(/;\s*SameSite=Strict/i);
    expect(first).toMatch(/;\s*Path=\/x\b/);
    const second = cookies.find((c) => c.startsWith('second='))!;
    expect(second.split(';')[0]).toBe('second=2');
    expect(second).toMatch(/;\s*Secure/i);
    expect(second).toMatch(/;\s*Domain=example\.com/i);
    expect(second).toMatch(/;\s*Expires=Wed, 02 Jan 2030 03:04:05 GMT/);
  });
});

describe('RESPONSE', () => {
  it('status and case-insensitive headers; the response carries them', async () => {
    const res = await fetch(srv.url + '/response');
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-mixed-case')).toBe('two');
    const t = await res.text();
    expect(t).toContain('lower=text/plain; charset=utf-8');
    expect(t).toContain('mixed=two');
  });
});

describe('THIS and REQUEST_HANDLER', () => {
  it('THIS = { url, scriptUrl, baseUrl, args, path, dir }', async () => {
    const t = await (await fetch(srv.url + '/sub/this/a/b?z=1')).json();
    const real = fs.realpathSync(root);
    expect(t.url).toBe('/sub/this/a/b?z=1');
    expect(t.scriptUrl).toBe('/sub/this');
    expect(t.baseUrl).toBe('/sub/');
    expect(t.args).toEqual(['a', 'b']);
    expect(t.path).toBe(path.join(real, 'sub', 'this.ts'));
    expect(t.dir).toBe(path.join(real, 'sub'));
    const plain = await (await fetch(srv.url + '/sub/this')).json();
    expect(plain.args).toEqual([]);
    expect(plain.url).toBe('/sub/this');
  });

  it('REQUEST_HANDLER = { method, clientAddress, httpVersion, req, res }', async () => {
    const g = await (await fetch(srv.url + '/handler?x=1')).json();
    expect(g).toMatchObject({ method: 'GET', version: '1.1', req: 'function', res: 'function', url: '/handler?x=1' });
    expect(g.client).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    const p = await (await fetch(srv.url + '/handler', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).json();
    expect(p.method).toBe('POST');
  });
});

describe('ACCEPTED_LANGUAGES', () => {
  it('lower-cased, by q, ties in header order, q=0 dropped', async () => {
    const header = 'fr-CA;q=0.8, EN;q=0.9, de, es;q=0, it;q=0.8, pt-BR';
    const a = await (await fetch(srv.url + '/langs', { headers: { 'accept-language': header } })).json();
    expect(a).toEqual(['de', 'pt-br', 'en', 'fr-ca', 'it']);
    // (fetch always sends `accept-language: *`; node:http sends no header at all)
    const none = await rawRequest(srv.url, '/langs');
    expect(JSON.parse(none.text)).toEqual([]);
    const ties = await rawRequest(srv.url, '/langs', { headers: { 'accept-language': 'nl;q=0.5, sv;q=0.5, da;q=0.5, NB' } });
    expect(JSON.parse(ties.text)).toEqual(['nb', 'nl', 'sv', 'da']);
  });
});

describe('print, html, raw', () => {
  it('print joins values with a space and adds a newline', async () => {
    const t = await (await fetch(srv.url + '/print')).text();
    expect(t.startsWith('a 1 true null\nsecond\n<b>x</b>\né ü 日本\n')).toBe(true);
  });

  it('html`` escapes interpolations unless raw()', async () => {
    const t = await (await fetch(srv.url + '/html')).text();
    expect(t).not.toContain('<script>');
    expect(t).toContain('&lt;script&gt;alert(');
    expect(t).toContain('&amp;');
    expect(t).toMatch(/<p title="[^"]*&quot;">/);
    expect(t).toMatch(/alert\((&#39;|&#x27;|&apos;)x(&#39;|&#x27;|&apos;)\)/);
    expect(t).toContain('<div><i>trusted</i></div>');
    expect(t).toContain('<span>42</span>');
    const q = await (await fetch(srv.url + '/html?v=' + encodeURIComponent('<img src=x onerror=1>'))).text();
    expect(q).not.toContain('<img');
    expect(q).toContain('&lt;img src=x onerror=1&gt;');
  });
});

describe('HTTP_REDIRECTION, HTTP_ERROR, SCRIPT_END', () => {
  it('HTTP_REDIRECTION(url) → 302 and stops the script', async () => {
    const res = await fetch(srv.url + '/redirect', { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/target?a=1');
    expect(await res.text()).not.toContain('AFTER-REDIRECT');
  });

  it('cookies and headers set before HTTP_REDIRECTION are sent with the redirect', async () => {
    const res = await fetch(srv.url + '/login', { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/next');
    expect(res.headers.get('x-before')).toBe('kept');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('sid=abc'))).toBe(true);
  });

  it('HTTP_REDIRECTION(url, 301) and throw new HTTP_REDIRECTION(url, 303)', async () => {
    const a = await fetch(srv.url + '/redirect?mode=301', { redirect: 'manual' });
    expect(a.status).toBe(301);
    expect(a.headers.get('location')).toBe('/permanent');
    const b = await fetch(srv.url + '/redirect?mode=throw', { redirect: 'manual' });
    expect(b.status).toBe(303);
    expect(b.headers.get('location')).toBe('/thrown-target');
  });

  it('HTTP_ERROR(status) answers the status with its status text', async () => {
    const res = await fetch(srv.url + '/error');
    expect(res.status).toBe(404);
    const t = await res.text();
    expect(t).toContain('Not Found');
    expect(t).not.toContain('AFTER-ERROR');
  });

  it('HTTP_ERROR(status, message) answers the message; throw new HTTP_ERROR works', async () => {
    const a = await fetch(srv.url + '/error?mode=msg&who=Bob');
    expect(a.status).toBe(403);
    const t = await a.text();
    expect(t).toContain('go away, Bob');
    const b = await fetch(srv.url + '/error?mode=throw');
    expect(b.status).toBe(503);
    expect(await b.text()).toContain('Service Unavailable');
  });

  it('SCRIPT_END() sends what was printed so far', async () => {
    const res = await fetch(srv.url + '/end');
    expect(res.status).toBe(200);
    const t = await res.text();
    expect(t).toContain('before end');
    expect(t).not.toContain('AFTER-END');
    const b = await (await fetch(srv.url + '/end-async')).text();
    expect(b.startsWith('one\ntwo\n')).toBe(true);
    expect(b).not.toContain('AFTER-END');
  });
});
