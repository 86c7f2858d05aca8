/**
 * Issue 8 — uploads: many parts, large files up to the limit (and just over:
 * 413), file names with paths, NUL or non-UTF-8 bytes; nothing written to
 * ROOT or to the temp folder (uploads are kept in memory), and that memory is
 * released after the request. The server runs in a child process with its
 * own TMPDIR and --expose-gc, and reports its memory.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { tempSite } from './helpers.js';
import { startChildServer, sendRaw, MEMORY_PAGE, listTree, freshDir, type RawHttpResponse } from './attack-helpers.js';

const MB = 1024 * 1024;
const LIMIT = 4 * MB;
const MARKER = 'UPLOAD-MARKER-' + randomBytes(8).toString('hex');

const ECHO = `import { createHash } from 'node:crypto';
RESPONSE.headers['content-type'] = 'application/json';
const out: Record<string, unknown> = {};
const view = (v: any): unknown => Array.isArray(v) ? v.map(view)
  : v && typeof v === 'object' && Buffer.isBuffer(v.data) ? { filename: v.filename, type: v.type, size: v.size, sha: createHash('sha256').update(v.data).digest('hex') }
  : v;
for (const k of Object.keys(QUERY)) out[k] = view(QUERY[k]);
print(JSON.stringify(out));
`;

let server: Awaited<ReturnType<typeof startChildServer>>;
let root: string;
let tmp: string;
let rootBefore: string[];
let tmpBefore: string[];

beforeAll(async () => {
  root = tempSite({ 'echo.ts': ECHO, 'memory.ts': MEMORY_PAGE, 'index.html': '<p>home</p>\n' });
  tmp = freshDir('kts-hardening-tmp-');
  server = await startChildServer([root, '--production', '--upload-limit', String(LIMIT), '--timeout', '3'], { TMPDIR: tmp, TMP: tmp, TEMP: tmp });
  rootBefore = listTree(root);
  tmpBefore = listTree(tmp);
}, 30_000);

afterAll(async () => {
  await server?.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Part {
  name: string;
  value?: string;
  /** The Content-Disposition parameters after the name, as raw text (e.g. `filename="a.txt"`). */
  fileParam?: string;
  data?: Buffer;
}

/** A multipart body built byte by byte (header text as Latin-1, so any byte can be sent). */
function build(parts: Part[], boundary = '----hardening-' + randomBytes(6).toString('hex')): { body: Buffer; type: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.fileParam !== undefined) head += `; ${p.fileParam}\r\nContent-Type: application/octet-stream`;
    chunks.push(Buffer.from(head + '\r\n\r\n', 'latin1'), p.data ?? Buffer.from(p.value ?? ''), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

function post(body: Buffer, type: string, opts: { chunked?: boolean; timeoutMs?: number } = {}): Promise<RawHttpResponse> {
  const head = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: ${type}\r\n`;
  if (opts.chunked) {
    const pieces: (string | Buffer)[] = [head + 'Transfer-Encoding: chunked\r\n\r\n'];
    for (let i = 0; i < body.length; i += 256 * 1024) {
      const c = body.subarray(i, i + 256 * 1024);
      pieces.push(`${c.length.toString(16)}\r\n`, c, '\r\n');
    }
    pieces.push('0\r\n\r\n');
    return sendRaw(server.port, pieces, { timeoutMs: opts.timeoutMs ?? 10_000 });
  }
  return sendRaw(server.port, [head + `Content-Length: ${body.length}\r\n\r\n`, body], { timeoutMs: opts.timeoutMs ?? 10_000 });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
type FileView = { filename: string; type: string; size: number; sha: string };

describe('uploads', () => {
  it('200 file parts and 50 fields in one request arrive intact', async () => {
    const files = Array.from({ length: 200 }, (_, i) => randomBytes(512 + i));
    const parts: Part[] = files.map((data, i) => ({ name: 'f[]', fileParam: `filename="file-${i}.bin"`, data }));
    for (let i = 0; i < 50; i++) parts.push({ name: `field${i}`, value: `${MARKER}-${i}` });
    const { body, type } = build(parts);
    const res = await post(body, type);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const out = JSON.parse(res.text) as { f: FileView[] } & Record<string, unknown>;
    expect(out.f).toHaveLength(200);
    out.f.forEach((f, i) => {
      expect(f.filename).toBe(`file-${i}.bin`);
      expect(f.size).toBe(files[i]!.length);
      expect(f.sha).toBe(sha(files[i]!));
    });
    for (let i = 0; i < 50; i++) expect(out[`field${i}`]).toBe(`${MARKER}-${i}`);
  });

  it('a file up to the limit is accepted whole; one byte over the limit is 413 and the connection is closed', async () => {
    const probe = build([{ name: 'big', fileParam: 'filename="big.bin"', data: Buffer.alloc(0) }]);
    const boundary = /boundary=(.*)$/.exec(probe.type)![1]!;
    const room = LIMIT - probe.body.length;
    const data = randomBytes(room);
    const fits = build([{ name: 'big', fileParam: 'filename="big.bin"', data }], boundary);
    expect(fits.body.length).toBe(LIMIT);
    const ok = await post(fits.body, fits.type);
    expect(ok.status, ok.text.slice(0, 300)).toBe(200);
    const big = (JSON.parse(ok.text) as { big: FileView }).big;
    expect(big.size).toBe(room);
    expect(big.sha).toBe(sha(data));

    const over = build([{ name: 'big', fileParam: 'filename="big.bin"', data: randomBytes(room + 1) }], boundary);
    expect(over.body.length).toBe(LIMIT + 1);
    // Declared too large: refused before any body byte is sent.
    const declared = await sendRaw(server.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: ${over.type}\r\nContent-Length: ${over.body.length}\r\n\r\n`, { timeoutMs: 5000 });
    expect(declared.status).toBe(413);
    expect(declared.timedOut, 'the connection is closed after the 413').toBe(false);
    // Without a Content-Length (chunked): counted while it arrives.
    const chunked = await post(over.body, over.type, { chunked: true });
    expect(chunked.status).toBe(413);
    expect(chunked.timedOut).toBe(false);
    // The limit counts the body, not a file: many small files adding up to more are refused too.
    const many = build(Array.from({ length: 9 }, (_, i) => ({ name: 'f[]', fileParam: `filename="p${i}"`, data: Buffer.alloc(LIMIT / 8) })));
    const manyRes = await post(many.body, many.type, { chunked: true });
    expect(manyRes.status).toBe(413);
  });

  it('file names keep only their last segment, without control characters', async () => {
    const cases: [param: string, expected: string | RegExp][] = [
      ['filename="../../etc/passwd"', 'passwd'],
      ['filename="/etc/shadow"', 'shadow'],
      ['filename="..\\\\..\\\\windows\\\\win.ini"', 'win.ini'],
      ["filename*=utf-8''..%5C..%5Cboot.ini", 'boot.ini'],
      ["filename*=utf-8''..%2F..%2Fx.txt", 'x.txt'],
      ['filename="a/b/../c.txt"', 'c.txt'],
      ['filename=".."', ''],
      ['filename="."', ''],
      ["filename*=utf-8''a%00b.txt", 'ab.txt'],
      ["filename*=utf-8''tab%09and%0Anewline%0D.txt", 'tabandnewline.txt'],
      ["filename*=iso-8859-1''caf%E9.txt", 'café.txt'],
      ["filename*=utf-8''%E5%90%8D%E5%89%8D.txt", '名前.txt'],
      ['filename="caf\xe9.txt"', /^caf.+\.txt$/], // a raw Latin-1 byte, not UTF-8: decoded somehow, still one plain segment
      ['filename="\xff\xfe.txt"', /\.txt$/],
      // C1 controls, bidi marks/overrides/isolates and line separators go too (issue 17).
      ["filename*=utf-8''a%C2%85b%C2%9Bc.txt", 'abc.txt'], // U+0085 NEL, U+009B CSI
      ["filename*=utf-8''invoice%E2%80%AEfdp.exe", 'invoicefdp.exe'], // U+202E RIGHT-TO-LEFT OVERRIDE
      ["filename*=utf-8''a%E2%80%A8b%E2%80%A9c.txt", 'abc.txt'], // U+2028, U+2029
      ["filename*=utf-8''%E2%80%AAa%E2%80%ABb%E2%80%ACc%E2%80%ADd.txt", 'abcd.txt'], // U+202A–U+202D
      ["filename*=utf-8''%E2%81%A6a%E2%81%A7b%E2%81%A8c%E2%81%A9.txt", 'abc.txt'], // U+2066–U+2069 isolates
      ["filename*=utf-8''%E2%80%8Ea%E2%80%8F.txt", 'a.txt'], // U+200E, U+200F marks
      ["filename*=utf-8''.%E2%80%AE.", ''], // what is left is `..`: not a file name
      ["filename*=utf-8''%C2%80x%C2%9F", 'x'], // both ends of the C1 range
    ];
    for (const [param, expected] of cases) {
      const { body, type } = build([{ name: 'f', fileParam: param, data: Buffer.from(MARKER) }]);
      const res = await post(body, type);
      expect(res.status, `${param}: ${res.text.slice(0, 200)}`).toBe(200);
      const f = (JSON.parse(res.text) as { f: FileView }).f;
      if (typeof expected === 'string') expect(f.filename, param).toBe(expected);
      else expect(f.filename, param).toMatch(expected);
      expect(f.filename, param).not.toMatch(/[/\\\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      expect(['.', '..']).not.toContain(f.filename);
      expect(f.size).toBe(MARKER.length);
    }
  });

  it('a raw NUL byte in a part header is a 400 with a one-line reason (or a name without it), never a 500', async () => {
    const { body, type } = build([{ name: 'f', fileParam: 'filename="nul\0byte.txt"', data: Buffer.from('x') }]);
    const res = await post(body, type);
    expect([200, 400]).toContain(res.status);
    if (res.status === 200) expect((JSON.parse(res.text) as { f: FileView }).f.filename).toBe('nulbyte.txt');
    else expect(res.text).toMatch(/multipart/i);
  });

  it('nothing is written to ROOT or to the temp folder', async () => {
    expect(listTree(root)).toEqual(rootBefore);
    const now = listTree(tmp);
    expect(now, 'the server wrote to its TMPDIR').toEqual(tmpBefore);
    for (const rel of now) {
      const file = path.join(tmp, rel);
      if (fs.statSync(file).isFile()) expect(fs.readFileSync(file).includes(MARKER), rel).toBe(false);
    }
  });

  it('the memory of uploads is released after the request', async () => {
    const warm = build([{ name: 'f', fileParam: 'filename="w.bin"', data: randomBytes(MB) }]);
    expect((await post(warm.body, warm.type)).status).toBe(200);
    const before = await server.memory();
    expect(before.gc, 'the server runs with --expose-gc').toBe(true);
    const upload = build([
      { name: 'a', fileParam: 'filename="a.bin"', data: randomBytes(1.5 * MB) },
      { name: 'b', fileParam: 'filename="b.bin"', data: randomBytes(1.5 * MB) },
    ]);
    for (let i = 0; i < 25; i++) {
      const res = await post(upload.body, upload.type);
      expect(res.status).toBe(200);
    }
    // And refused ones (413 half-way through a chunked body).
    const over = build([{ name: 'x', fileParam: 'filename="x.bin"', data: randomBytes(LIMIT + MB) }]);
    for (let i = 0; i < 5; i++) expect((await post(over.body, over.type, { chunked: true })).status).toBe(413);
    await new Promise((r) => setTimeout(r, 300));
    const after = await server.memory();
    // 75 MB went through: what stays is bounded well below one request's worth of files.
    const external = (m: typeof before): number => m.external + m.arrayBuffers;
    expect(after.heapUsed - before.heapUsed, `heap ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB`).toBeLessThan(8 * MB);
    expect(external(after) - external(before), 'external + arrayBuffers growth').toBeLessThan(3 * MB);
    expect(after.rss - before.rss, `rss ${(before.rss / MB).toFixed(0)} → ${(after.rss / MB).toFixed(0)} MB`).toBeLessThan(100 * MB);
  });

  // Known bug (issue 8 report): busboy reports a part without a name (or with name="")
  // as name `undefined`; fields.ts passes it to addField, which throws inside busboy's
  // 'field'/'file' event: an uncaught exception, and the request hangs until --timeout.
  it('a part without a name is ignored (or a 400), without an uncaught exception or a hang', async () => {
    const boundary = 'nameless';
    const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--${boundary}\r\nContent-Disposition: form-data; name="ok"\r\n\r\nyes\r\n--${boundary}--\r\n`);
    const errBefore = server.stderr().length;
    const res = await post(body, `multipart/form-data; boundary=${boundary}`, { timeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 100));
    const logged = server.stderr().slice(errBefore);
    expect(logged, 'stray exception in the server log').not.toMatch(/uncaught exception|unhandled promise rejection/);
    expect(res.timedOut, 'no answer').toBe(false);
    expect([200, 400]).toContain(res.status);
    if (res.status === 200) expect(JSON.parse(res.text)).toEqual({ ok: 'yes' });
  });

  // Known bug (issue 8 report): when the body ends inside a file part, busboy destroys
  // that part's stream with "Unexpected end of form"; fields.ts never listens for the
  // stream's 'error', so it is an uncaught exception (the answer itself is a right 400).
  it('a body that ends inside a file part is a 400 without an uncaught exception', async () => {
    const body = Buffer.from('--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhalf a fi');
    const errBefore = server.stderr().length;
    const res = await post(body, 'multipart/form-data; boundary=B', { timeoutMs: 2000 });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/multipart/i);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.stderr().slice(errBefore), 'stray exception in the server log').not.toMatch(/uncaught exception|unhandled promise rejection/);
  });

  it('the server still answers after all of this', async () => {
    const res = await sendRaw(server.port, 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});
