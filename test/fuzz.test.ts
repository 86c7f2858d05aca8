/**
 * Issue 8 — property-based hostile input against a running server (in this
 * process, so that a stray rejection is seen): random and hostile URLs,
 * headers, cookies, query strings, url-encoded, JSON and multipart bodies.
 *
 * For every request: only the SPEC's statuses, an answer at all (no hang),
 * nothing from outside ROOT, no script source; after every property: no
 * unhandled rejection or uncaught exception, and a known page still answers.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from '../dist/index.js';
import { tempSite, outside } from './helpers.js';
import { sendRaw, rawGet, watchStrayFailures, memoryLog, type RawHttpResponse } from './attack-helpers.js';

const SECRET = 'OUTSIDE-ROOT-SECRET-d41f9b27c3';
const SOURCE = 'SCRIPT-SOURCE-MARKER-8e1c02';
const PRIVATE = 'PRIVATE-FILE-MARKER-5a7730';
/** What the SPEC lets the server answer (500 only for the page that throws on purpose, which the fuzz never names; 403 for an unsafe request with a foreign Origin or Sec-Fetch-Site, §4). */
const ALLOWED = new Set([200, 206, 301, 302, 304, 400, 401, 403, 404, 405, 413, 416, 503]);
const RUNS = Number(process.env.HARDENING_RUNS ?? 200);
const fcOptions = { numRuns: RUNS, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false } as const;

/** The echo page: what the script saw, as JSON (uploads reduced to their metadata). */
const ECHO = `// ${SOURCE}
RESPONSE.headers['content-type'] = 'application/json; charset=utf-8';
const view = (v: unknown): unknown => Array.isArray(v) ? v.map(view)
  : v && typeof v === 'object' && Buffer.isBuffer((v as { data?: unknown }).data)
    ? { filename: (v as { filename: string }).filename, type: (v as { type: string }).type, size: (v as { size: number }).size, len: (v as { data: Buffer }).data.length }
    : v;
const q: Record<string, unknown> = Object.create(null);
for (const k of Object.keys(QUERY)) q[k] = view(QUERY[k]);
print(JSON.stringify({ q, c: COOKIE, l: ACCEPTED_LANGUAGES, u: AUTH_USER ?? null, a: THIS.args, t: _('Hello'), m: REQUEST_HANDLER.method }));
`;

const SITE: Record<string, string | Buffer> = {
  'index.html': '<p>home page</p>\n',
  'plain.txt': 'plain text file\n',
  'empty.txt': '',
  'big.bin': Buffer.alloc(300 * 1024, 7), // above the static cache: streamed from disk
  'echo.ts': ECHO,
  'counter.ts': `// ${SOURCE}\nRESPONSE.headers['content-type'] = 'text/plain';\nconst so = Session();\nso.n = ((so.n as number) ?? 0) + 1;\nprint(String(so.n));\n`,
  'svc.ts': `// ${SOURCE}\nexport function index() { return 'svc index'; }\nexport function json(f: Record<string, unknown>) { return { keys: Object.keys(f).length }; }\nexport function _private() { return '${PRIVATE}'; }\n`,
  'table.tsp': `<%# ${SOURCE} %><p><%= String(QUERY.x ?? '') %></p>\n`,
  'card.tsx': `// ${SOURCE}\n<p title={String(QUERY.x ?? '')}>{String(QUERY.y ?? '')}</p>;\n`,
  'sub/index.ts': `// ${SOURCE}\nprint('sub index ' + THIS.args.length);\n`,
  'sub/deep/page.html': '<p>deep</p>\n',
  'blog.ts': `// ${SOURCE}\nRESPONSE.headers['content-type'] = 'text/plain';\nprint('blog ' + JSON.stringify(THIS.args));\n`,
  'boom.ts': `// ${SOURCE}\nthrow new Error('on purpose');\n`,
  '_lib/util.ts': `export const marker = '${PRIVATE}';\n`,
  '_private.html': `<p>${PRIVATE}</p>\n`,
  '.env': `${PRIVATE}=1\n`,
  'sub/.hidden.txt': `${PRIVATE}\n`,
  '_translations/fr.json': '{"Hello":"Bonjour"}\n',
  'node_modules/x/index.js': `module.exports = '${PRIVATE}';\n`,
  'package.json': `{"name":"${PRIVATE}"}\n`,
  'tsconfig.json': `{"x":"${PRIVATE}"}\n`,
};

let port = 0;
let close: () => Promise<void>;
let watch: ReturnType<typeof watchStrayFailures>;
const log = memoryLog();

beforeAll(async () => {
  watch = watchStrayFailures();
  const root = tempSite(SITE);
  const parent = outside(root);
  fs.writeFileSync(path.join(parent, 'secret.txt'), SECRET + '\n');
  fs.writeFileSync(path.join(parent, 'secret.ts'), `print(${JSON.stringify(SECRET)});\n`);
  fs.mkdirSync(path.join(parent, 'www-other'));
  fs.writeFileSync(path.join(parent, 'www-other', 'index.html'), SECRET + '\n');
  fs.symlinkSync(path.join(parent, 'secret.txt'), path.join(root, 'link-out.txt'));
  fs.symlinkSync(parent, path.join(root, 'linkdir'));
  fs.symlinkSync(path.join(parent, 'secret.ts'), path.join(root, 'link-script.ts'));
  const running = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, timeout: 2 }, log);
  port = Number(new URL(running.url).port);
  close = () => running.close(500);
});

afterAll(async () => {
  await close?.();
  watch?.stop();
});

/** The invariants of every answer. */
function checkAnswer(res: RawHttpResponse, what: string): void {
  expect(res.timedOut, `no answer in time for ${what}`).toBe(false);
  expect(ALLOWED.has(res.status), `status ${res.status} for ${what}: ${res.text.slice(0, 300)}`).toBe(true);
  const all = res.raw.toString('latin1');
  expect(all.includes(SECRET), `a file from outside ROOT was served for ${what}`).toBe(false);
  expect(all.includes(SOURCE), `a script's source was served for ${what}`).toBe(false);
  expect(all.includes(PRIVATE), `a private or never-served file was served for ${what}`).toBe(false);
  if (res.status === 301 || res.status === 302) {
    // The server's own redirects (folder slash, service index) stay on this site: no open redirect.
    const location = res.headers.location?.[0] ?? '';
    expect(location, `Location for ${what}`).toMatch(/^\/(?![/\\])/);
  }
}

/** After a property: nothing stray happened, and the server still answers a known page. */
async function stillHealthy(): Promise<void> {
  expect(watch.failures, watch.failures.join('\n')).toEqual([]);
  const home = await sendRaw(port, rawGet('/index.html'));
  expect(home.status).toBe(200);
  expect(home.text).toContain('home page');
  const echo = await sendRaw(port, rawGet('/echo?ok=1'));
  expect(echo.status).toBe(200);
  expect(JSON.parse(echo.text).q).toEqual({ ok: '1' });
}

// ---------------------------------------------------------------- arbitraries

const hostileSegment = fc.constantFrom(
  '', '.', '..', '...', '%2e', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '..%2f', '..%2F..%2F', '%2f', '%2F', '%5c', '%5C..%5C', '\\', '..\\..',
  '%00', '%', '%%', '%zz', '%2', '%c0%ae%c0%ae', '%e0%80%ae', '%ff', '%fe%ff', '%u002e', '\u00e9', 'caf%C3%A9', '%F0%9F%98%80',
  'secret.txt', 'secret.ts', 'www', 'www-other', 'link-out.txt', 'linkdir', 'link-script.ts', 'link-script', '_lib', '_lib%2futil.ts', 'util.ts', '_private.html', '_private',
  '.env', '%2eenv', 'sub', '.hidden.txt', 'deep', 'page.html', 'page', 'node_modules', 'node_modules%2fx%2findex.js', 'package.json', 'tsconfig.json',
  '_translations', 'fr.json', 'echo', 'echo.ts', 'counter', 'svc', 'svc.ts', 'index', '_private', 'json', 'table', 'table.tsp', 'card', 'card.tsx',
  'blog', '2024', 'constructor', 'toString', 'hasOwnProperty', 'then', 'default', 'prototype', 'index.html', 'plain.txt', 'empty.txt', 'big.bin', 'index.ts', 'index.d.ts', '__karrigell', '?', '#', ';', ':', '@', '&', '=', '+', '~', '*', "'", '!', '$', ',', '(', ')',
  '<script>', '"><img>', '%3Cscript%3E', 'a'.repeat(300),
);
const randomSegment = fc.string({ unit: fc.constantFrom(...'abc.%_-/\\~:2efF0'.split('')), maxLength: 12 });
const segment = fc.oneof({ weight: 4, arbitrary: hostileSegment }, { weight: 1, arbitrary: randomSegment }, { weight: 1, arbitrary: fc.webSegment() });

const rawPath = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.array(segment, { minLength: 0, maxLength: 6 }), fc.boolean()).map(([segs, slash]) => '/' + segs.join('/') + (slash ? '/' : '')) },
  { weight: 1, arbitrary: fc.constantFrom('http://127.0.0.1/..%2f..%2fsecret.txt', 'http://x/%2e%2e/secret.txt', 'http://x/linkdir/secret.txt', '*', 'secret.txt', '//secret.txt', '///etc/passwd', '/./echo', '/echo/../../secret.txt', '/%2e%2e/www/index.html', '/..;/secret.txt') },
  { weight: 1, arbitrary: fc.webPath() },
);
const rawQuery = fc.oneof(
  fc.constant(''),
  fc.string({ unit: fc.constantFrom(...'ab=&%[]+;?/#x0F'.split('')), maxLength: 30 }).map((s) => '?' + s),
  fc.webQueryParameters().map((s) => '?' + s),
);
const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE');

/** Header values: printable ASCII and Latin-1 (obs-text), with hostile favourites. */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
  fc.constantFrom('', ' ', '\t', '=', ';', ',', '"', '%', '%00', '%zz', 'bytes=', 'bytes=0-', 'bytes=-0', 'bytes=5-1', 'bytes=0-0,2-3', 'bytes=99999999999999999999-', 'bytes=-99999999999999999999',
    '*', 'W/"x"', 'Basic', 'Basic !!!', 'Basic ' + Buffer.from('a:b').toString('base64'), 'Basic ' + Buffer.from([0xff, 0x3a, 0xfe]).toString('base64'), 'Basic ====',
    'fr-CA,fr;q=0.9,*;q=0', 'x;q=abc', '..', '../../etc/passwd', 'zz'.repeat(2000), 'sessionId=AAAAAAAAAAAAAAAAAAAAAA', 'Thu, 01 Jan 1970 00:00:00 GMT', 'not a date'),
);
const headerName = fc.oneof(
  fc.constantFrom('cookie', 'accept-language', 'authorization', 'range', 'if-range', 'if-none-match', 'if-modified-since', 'content-type', 'accept', 'accept-encoding', 'referer', 'user-agent',
    'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'origin', 'upgrade', 'te', 'trailer', 'max-forwards', 'forwarded', 'x-http-method-override'),
  fc.string({ unit: fc.constantFrom(...'abcxyz-_!#$%&\'*+.^`|~0123456789'.split('')), minLength: 1, maxLength: 20 }),
);
/** Pages the header and cookie properties aim at. */
const target = fc.constantFrom('/echo', '/echo?x=1', '/counter', '/plain.txt', '/big.bin', '/empty.txt', '/index.html', '/table', '/card', '/svc/json', '/sub/', '/blog/2024/x', '/nothing', '/linkdir/secret.txt');

// ------------------------------------------------------------------- the model

/** The SPEC's rules for form fields: `name[]` collects, a repeated plain name keeps the last. */
function modelFields(pairs: [string, string][], into: Record<string, unknown> = Object.create(null) as Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of pairs) {
    if (k.endsWith('[]') && k.length > 2) {
      const key = k.slice(0, -2);
      const list = into[key];
      if (Array.isArray(list)) list.push(v);
      else into[key] = [v];
    } else into[k] = v;
  }
  return into;
}
const fieldName = fc.oneof(
  fc.constantFrom('a', 'b', 'a[]', 'b[]', 'x[]', '[]', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', 'a b', 'é', '名前', 'a[b]', 'a[]b', '[]]'),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const fieldValue = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', '<script>alert(1)</script>', '\u0000', '\r\n', '%', '+', '&', '=', '💥', '\u2028'));
const pairs = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 12 });
const encodePairs = (ps: [string, string][]): string => ps.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

type Framing = 'ok' | 'no-end' | 'no-boundary-param' | 'wrong-boundary' | 'truncated' | 'garbage-preamble';
interface Part {
  name: string | undefined;
  filename: string | undefined;
  data: Uint8Array;
  type: string;
}
const fileName = fc.oneof(
  fc.constantFrom('../../etc/passwd', '..\\..\\boot.ini', '/abs/path.txt', 'C:\\x\\y.txt', '..', '.', '', 'a\u0001b.txt', 'é.txt', '名前.txt', '<script>.txt', '"q".txt', 'x'.repeat(300), 'a/b/../c.txt', '%2e%2e%2fx', 'nul\u0000.txt'),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
/** A multipart part; `nameless` also gives parts without a name or with name="". */
function multipartPart(nameless: boolean): fc.Arbitrary<Part> {
  const named = fc.oneof(fc.constantFrom('f', 'f[]', 'a', '__proto__', 'constructor', '[]', ' '), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }));
  return fc.record({
    name: nameless ? fc.oneof(named, fc.constantFrom(undefined, '')) : named,
    filename: fc.option(fileName, { nil: undefined }),
    data: fc.uint8Array({ maxLength: 300 }),
    type: fc.constantFrom('text/plain', 'application/octet-stream', '', 'image/png; x=y', '\u00e9'),
  });
}

/** Sends the parts as multipart/form-data framed as told; checks the answer. */
async function checkMultipart(parts: Part[], frame: Framing, latin1Names: boolean): Promise<void> {
  const boundary = '----hardening' + Math.random().toString(16).slice(2);
  const enc = (s: string): Buffer => Buffer.from(s, latin1Names ? 'latin1' : 'utf8');
  const quoted = (s: string): string => s.replace(/[\r\n"]/g, '_');
  const chunks: Buffer[] = [];
  if (frame === 'garbage-preamble') chunks.push(Buffer.from('preamble garbage\r\n'));
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data`;
    if (p.name !== undefined) head += `; name="${quoted(p.name)}"`;
    if (p.filename !== undefined) head += `; filename="${quoted(p.filename)}"`;
    if (p.type) head += `\r\nContent-Type: ${p.type}`;
    chunks.push(enc(head + '\r\n\r\n'), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  if (frame !== 'no-end') chunks.push(Buffer.from(`--${boundary}--\r\n`));
  let body = Buffer.concat(chunks);
  if (frame === 'truncated') body = body.subarray(0, Math.floor(body.length / 2));
  const type = frame === 'no-boundary-param' ? 'multipart/form-data' : `multipart/form-data; boundary=${frame === 'wrong-boundary' ? 'nope' : boundary}`;
  const res = await sendRaw(port, [`POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`, body], { timeoutMs: 3000 });
  const what = `multipart ${frame} ${JSON.stringify(parts.map((p) => ({ ...p, data: p.data.length })))}`;
  checkAnswer(res, what);
  await new Promise((r) => setImmediate(r));
  expect(watch.failures, `${what}\n${watch.failures.join('\n')}`).toEqual([]);
  expect([200, 400], what).toContain(res.status);
  if (res.status === 400) {
    expect(res.text, what).toMatch(/multipart|body/i);
    return;
  }
  const q = JSON.parse(res.text).q as Record<string, unknown>;
  const files = Object.values(q)
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .filter((v): v is { filename: string; size: number; len: number } => typeof v === 'object' && v !== null && 'filename' in v);
  for (const f of files) {
    expect(f.filename, what).not.toMatch(/[/\\\x00-\x1f\x7f]/);
    expect(f.size, what).toBe(f.len);
  }
}

// ---------------------------------------------------------------- properties

describe('property-based hostile input (in-process server; only SPEC statuses, nothing from outside ROOT, no stray failure)', () => {
  it('random and hostile URLs with any method', async () => {
    await fc.assert(
      fc.asyncProperty(method, rawPath, rawQuery, async (m, p, q) => {
        const target = p + q;
        if (/[\s]/.test(target)) return; // a space or control would only test the request-line parser
        if (target.startsWith('/__karrigell/events')) return; // the live-reload event stream never ends, by design
        const res = await sendRaw(port, rawGet(target, {}, m), { head: m === 'HEAD' });
        checkAnswer(res, `${m} ${target}`);
      }),
      fcOptions,
    );
    await stillHealthy();
  });

  it('hostile paths never read outside ROOT, whatever the encoding (targeted)', async () => {
    const escapes = ['..', '%2e%2e', '%2E%2e', '.%2e', '%2e.', '..%2f..', '..%5c..', '..\\..', '%c0%ae%c0%ae', 'linkdir', 'link-out.txt'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...escapes), { minLength: 1, maxLength: 5 }), fc.constantFrom('secret.txt', 'secret.ts', 'secret', 'www-other/', 'www-other/index.html', ''), async (ups, tail) => {
        const target = '/' + ups.join('/') + '/' + tail;
        for (const m of ['GET', 'HEAD']) {
          const res = await sendRaw(port, rawGet(target, {}, m), { head: m === 'HEAD' });
          checkAnswer(res, `${m} ${target}`);
          expect([400, 404], `${m} ${target}`).toContain(res.status);
        }
      }),
      { ...fcOptions, numRuns: Math.min(RUNS, 100) },
    );
    await stillHealthy();
  });

  it('random and hostile headers', async () => {
    await fc.assert(
      fc.asyncProperty(target, fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }), fc.constantFrom('GET', 'HEAD', 'POST'), async (t, hs, m) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of hs) headers[k] = v;
        const res = await sendRaw(port, rawGet(t, headers, m), { head: m === 'HEAD' });
        checkAnswer(res, `${m} ${t} ${JSON.stringify(headers).slice(0, 500)}`);
      }),
      fcOptions,
    );
    await stillHealthy();
  });

  it('oversized and malformed requests (framing, smuggling attempts) get a 400 or a normal answer, never a hang', async () => {
    const cases: [string, number[]][] = [
      [`GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, [431]], // Request Header Fields Too Large
      [`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, [431]], // the request line counts against the header size limit
      ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\nabcdef', [400]],
      ['POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\n0\r\n\r\n', [400]],
      ['POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', [400]],
      ['POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked, identity\r\nConnection: close\r\n\r\n0\r\n\r\n', [400]],
      ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n', [400]],
      ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\nConnection: close\r\n\r\n', [400]],
      ['GET /echo HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\nConnection: close\r\n\r\n', [400]],
      ['GET /echo HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nConnection: close\r\n\r\n', [400]],
      ['GET /echo HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\nConnection: close\r\n\r\n', [400]],
      ['GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n', [400]],
      ['GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n', [200, 400]],
      ['GET /echo HTTP/1.0\r\n\r\n', [200]],
      ['GET /echo HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n', [400]],
      ['GET /echo\r\n\r\n', [200, 400]], // HTTP/0.9 form: Node answers it as HTTP/1.x
      ['FOO /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [400]],
      ['GET /echo HTTP/1.1\nHost: x\nConnection: close\n\n', [200, 400]],
      ['\r\n\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [200, 400]],
      ['GET /echo?x=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?x=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [200]],
    ];
    for (const [request, statuses] of cases) {
      const res = await sendRaw(port, request, { timeoutMs: 3000 });
      const what = JSON.stringify(request.slice(0, 120));
      expect(res.timedOut, `no answer to ${what}`).toBe(false);
      expect(statuses, `${what}: ${res.status}`).toContain(res.status);
      expect(res.raw.toString('latin1')).not.toContain(SECRET);
    }
    // Pipelining: both answered, in order.
    const two = await sendRaw(port, 'GET /echo?x=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?x=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const all = two.raw.toString('utf8');
    expect(all.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(all.indexOf('"x":"1"')).toBeLessThan(all.indexOf('"x":"2"'));
    await stillHealthy();
  });

  it('random cookies: echoed without crashing, and a session id the server does not know is never adopted', async () => {
    const cookieText = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 120 }),
      fc.array(fc.tuple(fc.constantFrom('sessionId', 'sessionid', 'a', 'b', '__proto__', 'constructor', '', ' sessionId'), fc.oneof(fc.base64String({ maxLength: 40 }), fc.constantFrom('', '%', '%zz', '%00', '"q"', 'AAAAAAAAAAAAAAAAAAAAAA', 'x'.repeat(200), 'é'))), { maxLength: 5 })
        .map((cs) => cs.map(([k, v]) => `${k}=${v}`).join('; ')),
    );
    await fc.assert(
      fc.asyncProperty(cookieText, fc.constantFrom('/counter', '/echo'), async (cookie, page) => {
        const res = await sendRaw(port, rawGet(page, { cookie }));
        checkAnswer(res, `${page} cookie: ${cookie}`);
        if (/[\x00-\x08\x0a-\x1f\x7f]/.test(cookie)) return;
        expect(res.status, `${page} cookie: ${cookie}`).toBe(200);
        if (page === '/counter') {
          // No session was ever created with these ids: a new one, counting from 1, with a fresh id.
          expect(res.text.trim(), `cookie: ${cookie}`).toBe('1');
          const set = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sessionId='));
          expect(set, 'a new session sends its cookie').toBeDefined();
          const id = /^sessionId=([^;]*)/.exec(set!)![1]!;
          expect(cookie.includes(id), `the sent id was adopted: ${cookie}`).toBe(false);
          expect(id.length).toBeGreaterThanOrEqual(22);
        } else {
          const echoed = JSON.parse(res.text) as { c: Record<string, string> };
          expect(typeof echoed.c).toBe('object');
        }
      }),
      fcOptions,
    );
    await stillHealthy();
  });

  it('query strings: the fields follow the SPEC rules (encoded) and raw junk never fails', async () => {
    await fc.assert(
      fc.asyncProperty(pairs, async (ps) => {
        const q = encodePairs(ps);
        const res = await sendRaw(port, rawGet('/echo?' + q));
        checkAnswer(res, `/echo?${q}`);
        expect(res.status).toBe(200);
        expect(JSON.parse(res.text).q, `/echo?${q}`).toEqual(modelFields(ps));
      }),
      fcOptions,
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }), async (junk) => {
        const res = await sendRaw(port, rawGet('/echo?' + junk));
        checkAnswer(res, `/echo?${junk}`);
        expect(res.status, `/echo?${junk}`).toBe(200);
        const expected = modelFields([...new URLSearchParams(junk.replace(/#.*$/s, ''))]);
        const got = JSON.parse(res.text).q as Record<string, unknown>;
        // A fragment is not sent by browsers; whether the server keeps it in the last value is not specified.
        if (!junk.includes('#')) expect(got, `/echo?${junk}`).toEqual(expected);
      }),
      fcOptions,
    );
    await stillHealthy();
  });

  it('url-encoded bodies: body fields win over query fields, junk never fails, over the limit is 413', async () => {
    const queryPairs = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'q', 'q[]'), fieldValue), { maxLength: 4 });
    const bodyPairs = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'c[]', '__proto__'), fieldValue), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(queryPairs, bodyPairs, fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'), fc.boolean(), async (qp, bp, m, chunked) => {
        const q = encodePairs(qp);
        const body = Buffer.from(encodePairs(bp));
        const head = `${m} /echo?${q} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n`;
        const req = chunked
          ? [head + 'Transfer-Encoding: chunked\r\n\r\n', ...(body.length ? [`${body.length.toString(16)}\r\n`, body, '\r\n'] : []), '0\r\n\r\n']
          : [head + `Content-Length: ${body.length}\r\n\r\n`, body];
        const res = await sendRaw(port, req);
        checkAnswer(res, `${m} /echo?${q} body ${body}`);
        expect(res.status).toBe(200);
        const expected = modelFields(bp, modelFields(qp));
        expect(JSON.parse(res.text).q, `${m} /echo?${q} body ${body}`).toEqual(expected);
      }),
      fcOptions,
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const body = Buffer.from(bytes);
        const res = await sendRaw(port, [`POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`, body]);
        checkAnswer(res, `junk body ${body.toString('hex')}`);
        expect(res.status).toBe(200);
      }),
      { ...fcOptions, numRuns: Math.min(RUNS, 150) },
    );
    // Over the limit: refused from the declared length, before any byte of the body is sent.
    const res = await sendRaw(port, `POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${1024 * 1024 + 1}\r\n\r\n`);
    expect(res.status).toBe(413);
    await stillHealthy();
  });

  it('JSON bodies: an object gives its members with their JSON types, anything else is 400, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: fc.json({ maxDepth: 3 }) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '[]', 'null', '1e999', '"\\ud800"', '{"a":1}garbage', '\uFEFF{}') }), fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'APPLICATION/JSON'), async (text, type) => {
        const body = Buffer.from(text);
        const res = await sendRaw(port, [`POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`, body]);
        checkAnswer(res, `JSON body ${text}`);
        let parsed: unknown;
        let ok = true;
        try {
          parsed = JSON.parse(text);
        } catch {
          ok = false;
        }
        if (text.trim() === '') {
          expect(res.status).toBe(200);
        } else if (ok && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          expect(res.status, `JSON body ${text}: ${res.text.slice(0, 200)}`).toBe(200);
          expect(JSON.stringify(JSON.parse(res.text).q), `JSON body ${text}`).toBe(JSON.stringify(parsed));
        } else {
          expect(res.status, `JSON body ${text}`).toBe(400);
          expect(res.text).toMatch(/JSON/);
        }
      }),
      fcOptions,
    );
    expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
    await stillHealthy();
  });

  it('multipart bodies: hostile names, file names and types never give a 500, and file names are base names', async () => {
    await fc.assert(fc.asyncProperty(fc.array(multipartPart(false), { maxLength: 6 }), fc.constantFrom<Framing>('ok', 'ok', 'ok', 'garbage-preamble', 'wrong-boundary', 'no-boundary-param'), fc.boolean(), checkMultipart), fcOptions);
    await stillHealthy();
  });

  it('the page that throws on purpose is the only 500, and the server goes on', async () => {
    const res = await sendRaw(port, rawGet('/boom'));
    expect(res.status).toBe(500);
    await stillHealthy();
  });
  // Known bugs (see the report of issue 8): a part without a name makes fields.ts call addField(undefined, …),
  // which throws inside busboy (uncaught, and the request hangs until --timeout); a body that ends inside a
  // file part makes busboy destroy the part's stream with an error nobody listens to (uncaught exception).
  it('multipart bodies with broken framing or nameless parts: 400 (or the named fields), never a stray exception or a hang', async () => {
    try {
      await fc.assert(fc.asyncProperty(fc.array(multipartPart(true), { minLength: 1, maxLength: 4 }), fc.constantFrom<Framing>('ok', 'no-end', 'truncated'), fc.boolean(), checkMultipart), { ...fcOptions, numRuns: Math.min(RUNS, 100), endOnFailure: true });
      await stillHealthy();
    } finally {
      await new Promise((r) => setTimeout(r, 100));
      watch.failures.length = 0;
    }
  });
});
