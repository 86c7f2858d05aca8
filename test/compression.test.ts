/**
 * Compression (SPEC §10): br/gzip by the client's Accept-Encoding (q-values),
 * compressible types of at least 1 KiB, Vary, per-coding ETags with working
 * conditional requests, precompressed siblings, never for Range, 304 or
 * compressed types, HEAD like GET, pages too, --no-compression. Bodies are
 * checked by decompressing them with Node's zlib.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { rawRequest, startServer, tempSite, type RawResponse, type Running } from './helpers.js';
import { HAS_ZSTD } from '../dist/encoding.js';

const CSS = 'body { color: #333; margin: 0 auto; }\n'.repeat(200); // ~7.6 KB
const BIG = 'a large compressible text file, streamed\n'.repeat(10_000); // ~410 KB: beyond the in-memory table
const LONG_PAGE = `print('<ul>' + Array.from({ length: 300 }, (_, i) => '<li>item ' + i + '</li>').join('') + '</ul>');\n`;

function decoded(res: RawResponse): string {
  const enc = res.headers['content-encoding'];
  if (enc === 'br') return zlib.brotliDecompressSync(res.body).toString();
  if (enc === 'gzip') return zlib.gunzipSync(res.body).toString();
  if (enc === 'zstd' && HAS_ZSTD) return (zlib as unknown as { zstdDecompressSync(b: Buffer): Buffer }).zstdDecompressSync(res.body).toString();
  if (enc === undefined) return res.text;
  throw new Error(`unexpected coding ${enc}`);
}

for (const production of [true, false]) {
  describe(`compression (${production ? 'production' : 'development'})`, () => {
    let server: Running;
    let root: string;
    beforeAll(async () => {
      root = tempSite({
        'style.css': CSS,
        'tiny.css': 'p { margin: 0 }\n',
        'photo.png': randomBytes(4000),
        'data.json': JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ i }))),
        'big.txt': BIG,
        'app.js': 'console.log("the file itself");\n'.repeat(100),
        'old.js': 'console.log("the file itself");\n'.repeat(100),
        'long.ts': LONG_PAGE,
        'hello.ts': "print('<h1>Hello world</h1>');\n",
        'typed.ts': "RESPONSE.headers['content-type'] = 'image/png';\nprint('x'.repeat(5000));\n",
      });
      // A precompressed sibling, newer than its file, is served as is (its content differs on purpose).
      fs.writeFileSync(path.join(root, 'app.js.gz'), zlib.gzipSync('console.log("the precompressed sibling");\n'));
      fs.writeFileSync(path.join(root, 'app.js.br'), zlib.brotliCompressSync('console.log("the br sibling");\n'));
      // An older sibling is stale: ignored.
      fs.writeFileSync(path.join(root, 'old.js.gz'), zlib.gzipSync('stale'));
      const past = new Date(Date.now() - 3600_000);
      fs.utimesSync(path.join(root, 'old.js.gz'), past, past);
      server = await startServer(root, { production });
    });
    afterAll(() => server.close());

    const get = (p: string, headers: Record<string, string> = {}, method?: string): Promise<RawResponse> =>
      rawRequest(server.url, p, { headers: { accept: '*/*', ...headers }, method });

    it('picks the coding by Accept-Encoding and its q-values', async () => {
      const cases: [string | undefined, string | undefined][] = [
        ['br, gzip', 'br'],
        ['gzip, deflate, br, zstd', 'br'],
        ['gzip', 'gzip'],
        ['x-gzip', 'gzip'],
        ['gzip;q=1, br;q=0.5', 'gzip'],
        ['br;q=0, gzip', 'gzip'],
        ['*', 'br'],
        // zstd (Node ≥ 22.15) comes before gzip in the server's preference when the client takes both.
        ['*;q=0.5, br;q=0', HAS_ZSTD ? 'zstd' : 'gzip'],
        ['gzip;q=0.5, identity', undefined],
        ['identity', undefined],
        ['deflate', undefined],
        ['br;q=0, gzip;q=0', undefined],
        [undefined, undefined],
      ];
      const got: string[] = [];
      for (const [accept, want] of cases) {
        const res = await get('/style.css', accept === undefined ? {} : { 'accept-encoding': accept });
        expect(res.status).toBe(200);
        if (res.headers['content-encoding'] !== want) got.push(`${accept}: ${res.headers['content-encoding']} (want ${want})`);
        expect(decoded(res)).toBe(CSS);
        expect(res.headers.vary).toBe('Accept-Encoding');
      }
      expect(got).toEqual([]);
    });

    it('each coding has its own ETag; If-None-Match works per coding', async () => {
      const plain = await get('/style.css');
      const br = await get('/style.css', { 'accept-encoding': 'br' });
      const gz = await get('/style.css', { 'accept-encoding': 'gzip' });
      const tags = [plain.headers.etag, br.headers.etag, gz.headers.etag];
      expect(new Set(tags).size).toBe(3);
      expect(br.body.length).toBeLessThan(CSS.length / 5);
      expect(Number(br.headers['content-length'])).toBe(br.body.length);
      const again = await get('/style.css', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! });
      expect(again.status).toBe(304);
      expect(again.headers.etag).toBe(br.headers.etag);
      expect(again.headers.vary).toBe('Accept-Encoding');
      expect(again.headers['content-encoding']).toBeUndefined();
      // The gzip form's tag does not validate the br form.
      expect((await get('/style.css', { 'accept-encoding': 'br', 'if-none-match': gz.headers.etag! })).status).toBe(200);
      // If-Match is checked against the form the request would get.
      expect((await get('/style.css', { 'accept-encoding': 'br', 'if-match': plain.headers.etag! })).status).toBe(412);
      expect((await get('/style.css', { 'accept-encoding': 'br', 'if-match': br.headers.etag! })).status).toBe(200);
      // Made once and kept: the same bytes and tag the next time.
      const third = await get('/style.css', { 'accept-encoding': 'br' });
      expect(third.headers.etag).toBe(br.headers.etag);
      expect(third.body.equals(br.body)).toBe(true);
    });

    it('a HEAD answers the headers its GET would have', async () => {
      const g = await get('/style.css', { 'accept-encoding': 'br' });
      const h = await get('/style.css', { 'accept-encoding': 'br' }, 'HEAD');
      expect(h.body.length).toBe(0);
      for (const k of ['content-encoding', 'content-length', 'etag', 'vary', 'content-type']) expect(h.headers[k], k).toBe(g.headers[k]);
      const pg = await get('/long', { 'accept-encoding': 'gzip' });
      const ph = await get('/long', { 'accept-encoding': 'gzip' }, 'HEAD');
      expect(ph.headers['content-encoding']).toBe('gzip');
      expect(ph.headers['content-length']).toBe(pg.headers['content-length']);
    });

    it('never for a Range, a small file, or a type that is already compressed', async () => {
      const r = await get('/style.css', { 'accept-encoding': 'br, gzip', range: 'bytes=0-9' });
      expect(r.status).toBe(206);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.text).toBe(CSS.slice(0, 10));
      const tiny = await get('/tiny.css', { 'accept-encoding': 'br, gzip' });
      expect(tiny.headers['content-encoding']).toBeUndefined();
      expect(tiny.headers.vary).toBeUndefined();
      const png = await get('/photo.png', { 'accept-encoding': 'br, gzip' });
      expect(png.headers['content-encoding']).toBeUndefined();
      expect(png.headers.vary).toBeUndefined();
      // mime-db's compressible flag: JSON is.
      expect((await get('/data.json', { 'accept-encoding': 'gzip' })).headers['content-encoding']).toBe('gzip');
    });

    it('serves a newer precompressed sibling as is, ignores an older one', async () => {
      const gz = await get('/app.js', { 'accept-encoding': 'gzip' });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(decoded(gz)).toBe('console.log("the precompressed sibling");\n');
      expect(gz.headers['content-type']).toMatch(/javascript/);
      const br = await get('/app.js', { 'accept-encoding': 'br' });
      expect(decoded(br)).toBe('console.log("the br sibling");\n');
      const old = await get('/old.js', { 'accept-encoding': 'gzip' });
      expect(old.headers['content-encoding']).toBe('gzip');
      expect(decoded(old)).toBe('console.log("the file itself");\n'.repeat(100));
    });

    it('a file too large for the in-memory table is compressed as it streams', async () => {
      const res = await get('/big.txt', { 'accept-encoding': 'gzip' });
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(decoded(res)).toBe(BIG);
      expect(res.body.length).toBeLessThan(BIG.length / 10);
      const br = await get('/big.txt', { 'accept-encoding': 'br' });
      expect(decoded(br)).toBe(BIG);
      const again = await get('/big.txt', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! });
      expect(again.status).toBe(304);
    });

    it('an edited file gets new compressed forms', async () => {
      const file = path.join(root, 'edit.css');
      fs.writeFileSync(file, 'a { color: red }\n'.repeat(100));
      const first = await get('/edit.css', { 'accept-encoding': 'br' });
      expect(decoded(first)).toBe('a { color: red }\n'.repeat(100));
      fs.writeFileSync(file, 'a { color: blue }\n'.repeat(100));
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(file, later, later);
      // Production trusts a path's resolution for a second; development's watcher forgets it at once.
      await new Promise((r) => setTimeout(r, production ? 1100 : 300));
      const second = await get('/edit.css', { 'accept-encoding': 'br' });
      expect(decoded(second)).toBe('a { color: blue }\n'.repeat(100));
      expect(second.headers.etag).not.toBe(first.headers.etag);
    });

    it('pages of 1 KiB or more are compressed, smaller ones are sent as they are', async () => {
      const long = await get('/long', { 'accept-encoding': 'br, gzip' });
      expect(long.status).toBe(200);
      expect(long.headers['content-encoding']).toBe('br');
      expect(long.headers.vary).toBe('Accept-Encoding');
      expect(decoded(long)).toContain('<li>item 299</li>');
      const hello = await get('/hello', { 'accept-encoding': 'br, gzip' });
      expect(hello.headers['content-encoding']).toBeUndefined();
      expect(hello.headers.vary).toBeUndefined();
      expect(hello.text).toContain('Hello world');
      const typed = await get('/typed', { 'accept-encoding': 'br, gzip' });
      expect(typed.headers['content-encoding']).toBeUndefined();
      expect(typed.text).toBe('x'.repeat(5000) + '\n');
    });
  });
}

describe('--no-compression', () => {
  it('sends every response as it is, without Vary', async () => {
    const server = await startServer(tempSite({ 'style.css': CSS, 'long.ts': LONG_PAGE }), { production: true, compression: false });
    try {
      for (const p of ['/style.css', '/long']) {
        const res = await rawRequest(server.url, p, { headers: { 'accept-encoding': 'br, gzip' } });
        expect(res.status).toBe(200);
        expect(res.headers['content-encoding']).toBeUndefined();
        expect(res.headers.vary).toBeUndefined();
      }
    } finally {
      await server.close();
    }
  });
});

describe('command line', () => {
  it('--no-compression and --static-max-age reach the server', async () => {
    const { spawnCli } = await import('./helpers.js');
    const cli = await spawnCli(['serve', tempSite({ 'style.css': CSS }), '--port', '0', '--production', '--quiet', '--no-compression', '--static-max-age', '60']);
    try {
      const res = await rawRequest(cli.url, '/style.css', { headers: { 'accept-encoding': 'br, gzip' } });
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('public, max-age=60');
    } finally {
      await cli.kill();
    }
  });

  it('a bad --static-max-age is one line and exit 1', async () => {
    const { runCli } = await import('./helpers.js');
    const r = await runCli(['serve', tempSite({ 'a.txt': 'a' }), '--port', '0', '--static-max-age', 'soon']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('karrigell-ts: --static-max-age: "soon" is not a whole number');
  });
});
