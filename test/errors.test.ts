/** Script errors (SPEC §3) and bad input (§9): 500 pages located in the TypeScript source, 400/413. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { tempSite, startServer, rawRequest, multipart, type Running } from './helpers.js';
import { expectServerErrors } from './setup.js';

expectServerErrors(/Error in GET \/err\//, /Compile error in GET/);

/** TypeScript-only syntax before and on the throw line, so that a wrong mapping shows. */
const RUNTIME = `interface User {
  name: string;
  age: number;
}

type Maybe<T> = T | undefined;

enum Level { Low = 1, High = 2 }

const users: Array<User> = [{ name: "ann", age: 33 }];

function find(name: string): Maybe<User> {
  return users.find((u: User): boolean => u.name === name);
}

function explode(this: void, reason: string, level: Level = Level.High): never {
  const prefix: string = (level as number) > 1 ? "kaboom" : "meh";    throw new Error(prefix + "-" + reason);
}

const user: Maybe<User> = find("ann");
print(user?.name as string);
if ((QUERY as Record<string, unknown>).boom !== undefined) {
  const why: string = String(QUERY.boom as string | number);       explode(why);
}
print("no boom");
`;

const MODULE_THROWS = `export interface Opts { loud: boolean }
export type Fn = (o: Opts) => string;

export const failing: Fn = (o: Opts): string => {
  const label: string = o.loud ? "LOUD" : "quiet";
  if (label.length > 0) throw new TypeError("module-failure-" + label);
  return label;
};
`;

const SYNTAX = `interface Point { x: number; y: number }
const p: Point = { x: 1, y: 2 };
print(p.x);
const broken: number = (p.x + ;
print(broken);
`;

/** 1-based line and column of `needle` in `text`. */
function locate(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture has no ${needle}`);
  return { line: i + 1, column: lines[i]!.indexOf(needle) + 1 };
}

let srv: Running;
let small: Running;

beforeAll(async () => {
  const root = tempSite({
    'err/runtime.ts': RUNTIME,
    'err/uses-module.ts': 'import { failing } from "../_lib/failing.ts";\nconst loud: boolean = true;\nprint(failing({ loud }));\n',
    '_lib/failing.ts': MODULE_THROWS,
    'err/syntax.ts': SYNTAX,
    'err/bad-import.ts': 'import { x } from "../_lib/broken.ts";\nprint(x);\n',
    '_lib/broken.ts': 'export const x: number = 1;\nexport const y = {;\n',
    'err/rejects.ts': 'const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));\nawait wait(2);\nawait Promise.reject(new RangeError("async-rejection"));\n',
    'ok.ts': 'print("still serving");\n',
    'echo.ts': 'RESPONSE.headers["content-type"] = "application/json";\nprint(JSON.stringify(Object.fromEntries(Object.entries(QUERY).map(([k, v]: [string, any]) => [k, v && v.data ? v.size : typeof v === "string" ? v.length : v]))));\n',
  });
  srv = await startServer(root);
  small = await startServer(root, { bodyLimit: 1024, uploadLimit: 4096 });
});

afterAll(async () => {
  await srv?.close();
  await small?.close();
});

/** Decodes the HTML entities the error page may use. */
function unescape(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;|&#x27;|&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

async function page(p: string): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(srv.url + p);
  return { status: res.status, text: unescape(await res.text()), type: res.headers.get('content-type') ?? '' };
}

async function stillServing(): Promise<void> {
  const res = await fetch(srv.url + '/ok');
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('still serving');
}

describe('runtime errors', () => {
  it('the page works without the error', async () => {
    const r = await page('/err/runtime');
    expect(r.status).toBe(200);
    expect(r.text).toContain('ann');
    expect(r.text).toContain('no boom');
  });

  it('500 page with the TypeScript file:line:col of the throw, a code frame and the mapped stack', async () => {
    const r = await page('/err/runtime?boom=zap');
    expect(r.status).toBe(500);
    expect(r.type).toMatch(/^text\/html/);
    expect(r.text).toContain('kaboom-zap');
    expect(r.text).toContain('/err/runtime?boom=zap'); // the request URL
    const th = locate(RUNTIME, 'throw new Error');
    const nw = locate(RUNTIME, 'new Error');
    const at = new RegExp(`err/runtime\\.ts:${th.line}:(${th.column}|${nw.column})\\b`);
    expect(r.text).toMatch(at);
    // the code frame shows the line of the throw
    expect(r.text).toContain('throw new Error(prefix + "-" + reason);');
    // the stack is mapped: the caller's line in runtime.ts appears too
    const call = locate(RUNTIME, 'explode(why)');
    expect(r.text).toMatch(new RegExp(`err/runtime\\.ts:${call.line}:\\d+`));
    expect(r.text).not.toMatch(/www\/err\/runtime\.ts:\d+/); // relative to ROOT, not absolute
    await stillServing();
  });

  it('an error thrown in an imported module is located in that module', async () => {
    const r = await page('/err/uses-module');
    expect(r.status).toBe(500);
    expect(r.text).toContain('module-failure-LOUD');
    const th = locate(MODULE_THROWS, 'throw new TypeError');
    const nw = locate(MODULE_THROWS, 'new TypeError');
    expect(r.text).toMatch(new RegExp(`_lib/failing\\.ts:${th.line}:(${th.column}|${nw.column})\\b`));
    expect(r.text).toMatch(/err\/uses-module\.ts:3:\d+/);
    await stillServing();
  });

  it('a rejection after await is a 500 too', async () => {
    const r = await page('/err/rejects');
    expect(r.status).toBe(500);
    expect(r.text).toContain('async-rejection');
    expect(r.text).toMatch(/err\/rejects\.ts:3:\d+/);
    await stillServing();
  });

  it('the error repeats on every request and the page recovers its other URL', async () => {
    for (let i = 0; i < 3; i++) expect((await page('/err/runtime?boom=' + i)).status).toBe(500);
    expect((await page('/err/runtime')).status).toBe(200);
  });
});

describe('compile errors', () => {
  it('500 with the file:line:col of the syntax error and a code frame', async () => {
    const r = await page('/err/syntax');
    expect(r.status).toBe(500);
    const loc = locate(SYNTAX, '+ ;');
    const semicolon = loc.column + 2;
    expect(r.text).toMatch(new RegExp(`err/syntax\\.ts:${loc.line}:${semicolon}\\b`));
    expect(r.text).toContain('const broken: number = (p.x + ;');
    await stillServing();
  });

  it('a syntax error in an imported module names that module', async () => {
    const r = await page('/err/bad-import');
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/_lib\/broken\.ts:2:\d+/);
    await stillServing();
  });
});

describe('bad input (§9)', () => {
  it('malformed percent-encoding and NUL are 400', async () => {
    for (const p of ['/ok%zz', '/%E0%A4%A', '/ok%00', '/%00ok']) {
      const res = await rawRequest(srv.url, p);
      expect(res.status, p).toBe(400);
    }
    await stillServing();
  });

  it('url-encoded and JSON bodies under the limit are read', async () => {
    const form = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(900) });
    expect(form.status).toBe(200);
    expect(JSON.parse(form.text)).toEqual({ a: 900 });
    const json = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'y'.repeat(900) }) });
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text)).toEqual({ a: 900 });
  });

  it('413 for a url-encoded body over the body limit', async () => {
    const res = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(3000) });
    expect(res.status).toBe(413);
  });

  it('413 for a JSON body over the body limit', async () => {
    const res = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'y'.repeat(3000) }) });
    expect(res.status).toBe(413);
  });

  it('413 for a chunked body (no Content-Length) over the limit', async () => {
    const piece = 'x'.repeat(400);
    const form = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, chunks: ['a=', piece, piece, piece, piece, piece, piece] });
    expect(form.status).toBe(413);
    const json = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, chunks: ['{"a":"', piece, piece, piece, piece, piece, '"}'] });
    expect(json.status).toBe(413);
    // a chunked body under the limit is read
    const ok = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, chunks: ['a=', piece] });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ a: 400 });
  });

  it('multipart: under the upload limit is read (even above the body limit), over it 413', async () => {
    const ok = multipart([{ name: 'f', filename: 'f.bin', data: Buffer.alloc(3000, 7) }]);
    const r1 = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': ok.type }, body: ok.body });
    expect(r1.status).toBe(200);
    expect(JSON.parse(r1.text)).toEqual({ f: 3000 });
    const big = multipart([{ name: 'f', filename: 'f.bin', data: Buffer.alloc(10_000, 7) }]);
    const r2 = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': big.type }, body: big.body });
    expect(r2.status).toBe(413);
    const bigField = multipart([{ name: 'text', value: 'z'.repeat(10_000) }]);
    const r3 = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': bigField.type }, body: bigField.body });
    expect(r3.status).toBe(413);
  });

  it('multipart over the upload limit without Content-Length (chunked) is 413', async () => {
    const big = multipart([{ name: 'f', filename: 'f.bin', data: Buffer.alloc(10_000, 7) }]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < big.body.length; i += 1000) pieces.push(big.body.subarray(i, i + 1000));
    const res = await rawRequest(small.url, '/echo', { method: 'POST', headers: { 'content-type': big.type }, chunks: pieces });
    expect(res.status).toBe(413);
  });

  /** Sends headers and a first piece, then keeps the body open: the answer must come without the rest. */
  function openEnded(base: string, headers: Record<string, string>, first: Buffer | string, more: () => Buffer | string): Promise<number> {
    const u = new URL(base);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const req = http.request({ host: u.hostname, port: Number(u.port), path: '/echo', method: 'POST', headers, agent: false }, (res) => {
        clearInterval(timer);
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (err) => {
        clearInterval(timer);
        reject(err);
      });
      req.write(first);
      timer = setInterval(() => {
        if (!req.destroyed) req.write(more());
      }, 20);
      const guard = setTimeout(() => {
        clearInterval(timer);
        req.destroy();
        reject(new Error('no answer while the body was still being sent'));
      }, 5000);
      req.on('close', () => clearTimeout(guard));
    });
  }

  it('413 comes as soon as a declared Content-Length is over the limit, without reading the body', async () => {
    const status = await openEnded(small.url, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(50 * 1024 * 1024) }, 'a=xx', () => 'x'.repeat(100));
    expect(status).toBe(413);
  });

  it('413 comes while an endless chunked body is still being sent', async () => {
    const json = await openEnded(small.url, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, '{"a":"', () => 'y'.repeat(300));
    expect(json).toBe(413);
    const b = '----endless';
    const head = `--${b}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const mp = await openEnded(small.url, { 'content-type': `multipart/form-data; boundary=${b}`, 'transfer-encoding': 'chunked' }, head, () => Buffer.alloc(1000, 1));
    expect(mp).toBe(413);
  });

  it('the server keeps serving after 413s', async () => {
    const res = await fetch(small.url + '/ok');
    expect(res.status).toBe(200);
  });

  it('400 with a reason for malformed JSON', async () => {
    for (const body of ['{"a":', 'not json', '{"a":1,}']) {
      const res = await rawRequest(srv.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(400);
      expect(res.text).toMatch(/json/i);
    }
  });

  it('400 with a reason for malformed multipart', async () => {
    const b = 'XyZbound';
    const truncated = `--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue-without-end`;
    const r1 = await rawRequest(srv.url, '/echo', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${b}` }, body: truncated });
    expect(r1.status).toBe(400);
    expect(r1.text).toMatch(/multipart|form/i);
    const r2 = await rawRequest(srv.url, '/echo', { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'whatever' });
    expect(r2.status).toBe(400);
    expect(r2.text).toMatch(/multipart|boundary/i);
    await stillServing();
  });
});
