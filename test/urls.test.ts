/** URLs and files (SPEC §2, §9): mapping, static files, never-served names, hostile URLs. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { tempSite, startServer, rawRequest, outside, writeFiles, type Running } from './helpers.js';

const SECRET = 'TOP-SECRET-7f3a9c-outside-root';
const SIBLING_NAME = 'zz-sibling-name-4b1e.txt';
const EXTS = ['.ts', '.tsx', '.tsp', '.html', '.htm'];

/** A page file of extension `ext` whose output names the extension. */
function pageOf(ext: string, label: string): string {
  if (ext === '.ts' || ext === '.tsx') return `RESPONSE.headers["content-type"] = "text/plain"; print(${JSON.stringify(label)});\n`;
  if (ext === '.tsp') return `<% RESPONSE.headers["content-type"] = "text/plain"; %>${label}\n`;
  return `${label}\n`;
}

const files: Record<string, string | Buffer> = {
  'index.html': '<p>home page</p>\n',
  'plain.txt': 'hello static world\n',
  'style.css': 'body { color: red }\n',
  'data.json': '{"k": 1}\n',
  'pic.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
  'digits.txt': '0123456789',
  'app.js': 'console.log("static js");\n',
  'hello world.txt': 'spaced name\n',
  'café.txt': 'accented name\n',
  'my dir/index.html': '<p>spaced folder</p>\n',
  'empty.txt': '',
  'about.html': '<p>about page</p>\n',
  'legacy.htm': '<p>legacy htm</p>\n',
  'page.ts': '// SOURCE-MARKER-page-ts\nconst secretLocal: string = "SOURCE-ONLY";\nRESPONSE.headers["content-type"] = "text/plain";\nprint("page output " + secretLocal.length);\n',
  'comp.tsx': '// SOURCE-MARKER-tsx\nRESPONSE.headers["content-type"] = "text/plain";\nprint("tsx output");\n',
  'tmpl.tsp': '<%# SOURCE-MARKER-tsp %><% RESPONSE.headers["content-type"] = "text/plain"; const n: number = 2; %>tsp output <%= n * 21 %>\n',
  'sub/deep.ts': 'RESPONSE.headers["content-type"] = "text/plain"; print("deep", JSON.stringify(THIS.args));\n',
  'sub/file.txt': 'sub file\n',
  'blog.ts': 'RESPONSE.headers["content-type"] = "text/plain"; print("blog " + JSON.stringify(THIS.args));\n',
  'shop.ts': 'RESPONSE.headers["content-type"] = "text/plain"; print("shop " + JSON.stringify(THIS.args));\n',
  'shop/cart.ts': 'RESPONSE.headers["content-type"] = "text/plain"; print("cart " + JSON.stringify(THIS.args));\n',
  'withindex/index.html': '<p>folder index</p>\n',
  'nolist/visible.txt': 'v\n',
  'nolist/inner/x.txt': 'x\n',
  'nolist/.dotfile': 'DOTFILE-CONTENT\n',
  'nolist/_private.txt': 'PRIVATE-TXT-CONTENT\n',
  'nolist/_privdir/y.txt': 'y\n',
  '_lib/db.ts': 'export const db = "LIB-SOURCE-MARKER";\n',
  '_lib/notes.txt': 'PRIVATE-NOTES\n',
  '_partial.html': '<p>PRIVATE-PARTIAL</p>\n',
  'sub/_hidden.html': '<p>PRIVATE-SUB</p>\n',
  '.env': 'DOTENV-SECRET=1\n',
  // Declaration files that would print if they ran (issue 17: `/evil.d/x` ran `evil.d.ts`).
  'evil.d.ts': '// DTS-SOURCE-MARKER\nprint("DTS-RAN-MARKER");\n',
  'evil.d.mts': '// DTS-SOURCE-MARKER\nprint("DTS-RAN-MARKER");\n',
  'evil.d.cts': '// DTS-SOURCE-MARKER\nprint("DTS-RAN-MARKER");\n',
  'sub/types.d.ts': '// DTS-SOURCE-MARKER\nprint("DTS-RAN-MARKER");\n',
  '.git/config': 'GIT-CONFIG-SECRET\n',
  'tsconfig.json': '{"compilerOptions":{"strict":true,"x":"TSCONFIG-MARKER"}}\n',
  'package.json': '{"name":"site","private":true,"x":"PKGJSON-MARKER"}\n',
  'node_modules/fake-pkg/package.json': '{"name":"fake-pkg","x":"NM-MARKER"}\n',
  'node_modules/fake-pkg/index.js': 'module.exports = "NM-MARKER";\n',
};
// Order of extension-less resolution: o{i} has the extensions EXTS[i..]; i{i}/ has index files EXTS[i..].
EXTS.forEach((_, i) => {
  for (const ext of EXTS.slice(i)) {
    files[`o${i}${ext}`] = pageOf(ext, `o${i} from ${ext}`);
    files[`i${i}/index${ext}`] = pageOf(ext, `i${i} from ${ext}`);
  }
});

let root: string;
let srv: Running;
let listSrv: Running;

beforeAll(async () => {
  root = tempSite(files);
  const parent = outside(root);
  fs.writeFileSync(path.join(parent, 'secret.txt'), SECRET + '\n');
  fs.writeFileSync(path.join(parent, SIBLING_NAME), SECRET + '\n');
  fs.writeFileSync(path.join(parent, 'evil.ts'), `print(${JSON.stringify(SECRET)});\n`);
  fs.writeFileSync(path.join(parent, 'evil.html'), `<p>${SECRET}</p>\n`);
  // symbolic links leaving ROOT, and one staying inside
  fs.symlinkSync(path.join(parent, 'secret.txt'), path.join(root, 'link-out.txt'));
  fs.symlinkSync(parent, path.join(root, 'linkdir'));
  fs.symlinkSync(path.join(parent, 'evil.ts'), path.join(root, 'link-script.ts'));
  fs.symlinkSync(path.join(parent, 'evil.html'), path.join(root, 'link-page.html'));
  fs.symlinkSync(path.join(root, 'plain.txt'), path.join(root, 'link-in.txt'));
  fs.symlinkSync(path.join(root, 'page.ts'), path.join(root, 'page-source.txt'));
  srv = await startServer(root);
  listSrv = await startServer(root, { listing: true });
});

afterAll(async () => {
  await srv?.close();
  await listSrv?.close();
});

const get = (p: string, init: RequestInit = {}): Promise<Response> => fetch(srv.url + p, { redirect: 'manual', ...init });

describe('URL mapping', () => {
  it.each(EXTS.map((ext, i) => [i, ext]))('extension-less /o%i picks %s first (order .ts .tsx .tsp .html .htm)', async (i, ext) => {
    const res = await get(`/o${i}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`o${i} from ${ext}`);
  });

  it.each(EXTS.map((ext, i) => [i, ext]))('folder /i%i/ picks index%s first', async (i, ext) => {
    const res = await get(`/i${i}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`i${i} from ${ext}`);
  });

  it('/ serves index.html', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('home page');
  });

  it('/about and /legacy map to .html and .htm files', async () => {
    expect(await (await get('/about')).text()).toContain('about page');
    expect(await (await get('/legacy')).text()).toContain('legacy htm');
  });

  it('/page.ts runs the same script as /page, never returns its source', async () => {
    for (const u of ['/page', '/page.ts']) {
      const res = await get(u);
      expect(res.status, u).toBe(200);
      const text = await res.text();
      expect(text).toContain('page output 11');
      expect(text).not.toContain('SOURCE-MARKER');
      expect(text).not.toContain('SOURCE-ONLY');
    }
  });

  it('.tsx and .tsp are run by name with extension too, never returned as text', async () => {
    for (const [u, out, marker] of [
      ['/comp.tsx', 'tsx output', 'SOURCE-MARKER-tsx'],
      ['/comp', 'tsx output', 'SOURCE-MARKER-tsx'],
      ['/tmpl.tsp', 'tsp output 42', 'SOURCE-MARKER-tsp'],
      ['/tmpl', 'tsp output 42', 'SOURCE-MARKER-tsp'],
    ]) {
      const res = await get(u!);
      expect(res.status, u).toBe(200);
      const text = await res.text();
      expect(text, u).toContain(out);
      expect(text, u).not.toContain(marker);
      expect(text, u).not.toContain('RESPONSE.headers');
    }
  });

  it('odd spellings of a script name run it or are 404, never show the source', async () => {
    const run = await get('/page%2ets');
    expect(run.status).toBe(200);
    expect(await run.text()).toContain('page output 11');
    for (const u of ['/page.ts%20', '/page.ts::$DATA', '/page.ts.', '/PAGE.TS', '/page.ts~', '/page.ts.bak']) {
      const res = await rawRequest(srv.url, u);
      expect(res.status, u).toBe(404);
      expect(res.text).not.toContain('SOURCE-MARKER');
    }
  });

  // SPEC §2 "Never served: the source of any script", also through a link with another name.
  it('a symbolic link inside ROOT to a script does not serve its source', async () => {
    const res = await rawRequest(srv.url, '/page-source.txt');
    expect(res.text).not.toContain('SOURCE-MARKER');
  });

  it('HEAD of a script does not return its source', async () => {
    const res = await get('/page.ts', { method: 'HEAD' });
    expect(res.status).not.toBe(404);
    expect(res.headers.get('content-type') ?? '').not.toMatch(/typescript|video\/mp2t/);
  });

  it('extra path segments are THIS.args', async () => {
    const res = await get('/blog/2024/post');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('blog ["2024","post"]');
    expect(await (await get('/sub/deep/x/y/z')).text()).toContain('deep ["x","y","z"]');
  });

  it('a deeper file wins over a shorter script with args', async () => {
    expect(await (await get('/shop/cart/42')).text()).toContain('cart ["42"]');
    expect(await (await get('/shop/other/7')).text()).toContain('shop ["other","7"]');
  });

  it('a folder without trailing slash redirects 301 to the slash form, query kept', async () => {
    const res = await get('/withindex');
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/withindex/');
    const q = await get('/withindex?a=1&b=two');
    expect(q.status).toBe(301);
    expect(q.headers.get('location')).toBe('/withindex/?a=1&b=two');
    const ok = await get('/withindex/');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('folder index');
  });

  it('percent-encoded names are decoded (spaces, UTF-8), folder redirects keep the encoding', async () => {
    expect(await (await get('/hello%20world.txt')).text()).toBe('spaced name\n');
    expect(await (await get('/caf%C3%A9.txt')).text()).toBe('accented name\n');
    const r = await get('/my%20dir');
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('/my%20dir/');
    expect(await (await get('/my%20dir/')).text()).toContain('spaced folder');
  });

  it('a query string does not change which file is served', async () => {
    const res = await get('/plain.txt?v=123&x=%20');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello static world\n');
  });

  it('unknown URLs are 404', async () => {
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/sub/nope.txt')).status).toBe(404);
  });

  // Regression: a file used as a folder (ENOTDIR) must not give 500.
  it('a static file followed by segments is 404 (not 500)', async () => {
    expect((await get('/plain.txt/extra')).status).toBe(404);
  });

  it('/blog.ts/a runs blog.ts with args ["a"] (not 500)', async () => {
    const res = await get('/blog.ts/a');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('blog ["a"]');
  });
});

describe('static files', () => {
  it('content type from mime-types', async () => {
    const cases: [string, RegExp][] = [
      ['/plain.txt', /^text\/plain\b/],
      ['/style.css', /^text\/css\b/],
      ['/data.json', /^application\/json\b/],
      ['/pic.png', /^image\/png$/],
      ['/about.html', /^text\/html\b/],
      ['/app.js', /^(text|application)\/javascript\b/],
    ];
    for (const [u, type] of cases) {
      const res = await get(u);
      expect(res.status, u).toBe(200);
      expect(res.headers.get('content-type'), u).toMatch(type);
      await res.arrayBuffer();
    }
    const png = Buffer.from(await (await get('/pic.png')).arrayBuffer());
    expect(png.equals(files['pic.png'] as Buffer)).toBe(true);
  });

  it('ETag and Last-Modified, 304 for If-None-Match and If-Modified-Since', async () => {
    const res = await get('/plain.txt');
    expect(await res.text()).toBe('hello static world\n');
    const etag = res.headers.get('etag');
    const lastModified = res.headers.get('last-modified');
    expect(etag).toBeTruthy();
    expect(lastModified).toBeTruthy();
    expect(Date.parse(lastModified!)).not.toBeNaN();

    const inm = await get('/plain.txt', { headers: { 'if-none-match': etag! } });
    expect(inm.status).toBe(304);
    expect(await inm.text()).toBe('');
    const ims = await get('/plain.txt', { headers: { 'if-modified-since': lastModified! } });
    expect(ims.status).toBe(304);
    const stale = await get('/plain.txt', { headers: { 'if-none-match': '"not-the-etag"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe('hello static world\n');
    const old = await get('/plain.txt', { headers: { 'if-modified-since': new Date(Date.parse(lastModified!) - 3600_000).toUTCString() } });
    expect(old.status).toBe(200);
    await old.arrayBuffer();
    // another file has another ETag
    const other = await get('/style.css');
    await other.arrayBuffer();
    expect(other.headers.get('etag')).not.toBe(etag);
  });

  it('the ETag changes when the file changes', async () => {
    writeFiles(root, { 'changing.txt': 'one' });
    const a = await get('/changing.txt');
    expect(await a.text()).toBe('one');
    const t = new Date(Date.now() + 5000);
    writeFiles(root, { 'changing.txt': 'two, longer' });
    fs.utimesSync(path.join(root, 'changing.txt'), t, t);
    // the server may trust its resolution cache briefly; the change must show within a few seconds
    let text = '';
    for (let i = 0; i < 40 && text !== 'two, longer'; i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      text = await (await get('/changing.txt')).text();
    }
    expect(text).toBe('two, longer');
    const b = await get('/changing.txt', { headers: { 'if-none-match': a.headers.get('etag')! } });
    expect(b.status).toBe(200);
    expect(b.headers.get('etag')).not.toBe(a.headers.get('etag'));
    expect(await b.text()).toBe('two, longer');
  });

  it('HEAD has the headers and no body', async () => {
    const res = await rawRequest(srv.url, '/plain.txt', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['content-length']).toBe(String('hello static world\n'.length));
    expect(res.headers.etag).toBeTruthy();
    expect(res.body.length).toBe(0);
  });

  it('byte ranges: 206 with Content-Range', async () => {
    const r1 = await get('/digits.txt', { headers: { range: 'bytes=2-5' } });
    expect(r1.status).toBe(206);
    expect(r1.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await r1.text()).toBe('2345');
    const r2 = await get('/digits.txt', { headers: { range: 'bytes=7-' } });
    expect(r2.status).toBe(206);
    expect(r2.headers.get('content-range')).toBe('bytes 7-9/10');
    expect(await r2.text()).toBe('789');
    const r3 = await get('/digits.txt', { headers: { range: 'bytes=-3' } });
    expect(r3.status).toBe(206);
    expect(r3.headers.get('content-range')).toBe('bytes 7-9/10');
    expect(await r3.text()).toBe('789');
    const r4 = await get('/digits.txt', { headers: { range: 'bytes=8-100' } });
    expect(r4.status).toBe(206);
    expect(r4.headers.get('content-range')).toBe('bytes 8-9/10');
    expect(await r4.text()).toBe('89');
  });

  it('byte ranges on a large file (streamed from disk)', async () => {
    const big = Buffer.alloc(400 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 10)) & 0xff;
    writeFiles(root, { 'big.bin': big });
    const whole = await get('/big.bin');
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(big)).toBe(true);
    const part = await get('/big.bin', { headers: { range: 'bytes=300000-300099' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 300000-300099/${big.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(big.subarray(300000, 300100))).toBe(true);
    const tail = await get('/big.bin', { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(big.subarray(big.length - 10))).toBe(true);
  });

  it('byte ranges: 416 for an unsatisfiable range', async () => {
    const r = await get('/digits.txt', { headers: { range: 'bytes=50-60' } });
    expect(r.status).toBe(416);
    expect(r.headers.get('content-range')).toBe('bytes */10');
    await r.arrayBuffer();
  });

  it('405 with Allow: GET, HEAD for other methods', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await rawRequest(srv.url, '/plain.txt', { method, body: method === 'DELETE' ? undefined : 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow, method).toMatch(/^GET,\s*HEAD$/);
      expect(res.text).not.toContain('hello static world');
    }
    const html = await rawRequest(srv.url, '/about', { method: 'POST', body: '' });
    expect(html.status).toBe(405);
    expect(html.headers.allow).toMatch(/^GET,\s*HEAD$/);
  });

  it('an empty file is served with length 0', async () => {
    const res = await rawRequest(srv.url, '/empty.txt');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });

  it('a symbolic link staying inside ROOT is served', async () => {
    const res = await get('/link-in.txt');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello static world\n');
  });
});

describe('never served', () => {
  it.each([
    ['/_lib/db.ts', 'LIB-SOURCE-MARKER'],
    ['/_lib/db', 'LIB-SOURCE-MARKER'],
    ['/_lib/', 'db.ts'],
    ['/_lib', 'db.ts'],
    ['/_lib/notes.txt', 'PRIVATE-NOTES'],
    ['/_partial.html', 'PRIVATE-PARTIAL'],
    ['/_partial', 'PRIVATE-PARTIAL'],
    ['/sub/_hidden.html', 'PRIVATE-SUB'],
    ['/sub/_hidden', 'PRIVATE-SUB'],
    ['/.env', 'DOTENV-SECRET'],
    ['/.git/config', 'GIT-CONFIG-SECRET'],
    ['/.git/', 'config'],
    ['/%2eenv', 'DOTENV-SECRET'],
    ['/%2Eenv', 'DOTENV-SECRET'],
    ['/%5flib/db.ts', 'LIB-SOURCE-MARKER'],
    ['/%5Fpartial.html', 'PRIVATE-PARTIAL'],
    ['/nolist/_private.txt', 'PRIVATE-TXT-CONTENT'],
    ['/nolist/.dotfile', 'DOTFILE-CONTENT'],
    ['/tsconfig.json', 'TSCONFIG-MARKER'],
    ['/package.json', 'PKGJSON-MARKER'],
    ['/node_modules/fake-pkg/package.json', 'NM-MARKER'],
    ['/node_modules/fake-pkg/index.js', 'NM-MARKER'],
    ['/node_modules/', 'fake-pkg'],
  ])('%s is 404', async (u, marker) => {
    for (const s of [srv, listSrv]) {
      const res = await rawRequest(s.url, u);
      expect(res.status, `${u} (${s === srv ? 'plain' : '--listing'})`).toBe(404);
      expect(res.text).not.toContain(marker);
    }
  });
});

describe('declaration files are never pages nor served', () => {
  it.each([
    '/evil.d/x',
    '/evil.d/x/y',
    '/evil.d/',
    '/evil.d',
    '/evil.d.ts',
    '/evil.d.ts/x',
    '/evil.d.mts',
    '/evil.d.mts/x',
    '/evil.d.cts',
    '/evil.d.cts/x',
    '/sub/types.d/x',
    '/sub/types.d',
    '/sub/types.d.ts',
    '/evil%2Ed/x',
  ])('%s is 404 and runs nothing', async (u) => {
    for (const s of [srv, listSrv]) {
      const res = await rawRequest(s.url, u);
      expect(res.status, `${u} (${s === srv ? 'plain' : '--listing'})`).toBe(404);
      expect(res.text).not.toContain('DTS-RAN-MARKER');
      expect(res.text).not.toContain('DTS-SOURCE-MARKER');
    }
  });
});

describe('--listing', () => {
  it('without --listing a folder without index is 404', async () => {
    expect((await get('/nolist/')).status).toBe(404);
    expect((await get('/nolist/inner/')).status).toBe(404);
  });

  it('with --listing the folder is listed, hidden and private names left out', async () => {
    const res = await fetch(listSrv.url + '/nolist/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await res.text();
    expect(text).toContain('visible.txt');
    expect(text).toContain('inner');
    expect(text).not.toContain('.dotfile');
    expect(text).not.toContain('_private');
    expect(text).not.toContain('_privdir');
  });

  it('with --listing, a folder with an index still serves the index', async () => {
    expect(await (await fetch(listSrv.url + '/withindex/')).text()).toContain('folder index');
  });
});

/** Requests that try to leave ROOT; none may ever show a file from outside. */
const HOSTILE: [string, number[]][] = [
  ['/../secret.txt', [400, 404]],
  ['/../../secret.txt', [400, 404]],
  ['/%2e%2e/secret.txt', [404]],
  ['/%2E%2E/secret.txt', [404]],
  ['/%2e%2E/secret.txt', [404]],
  ['/..%2fsecret.txt', [404]],
  ['/..%2Fsecret.txt', [404]],
  ['/%2e%2e%2fsecret.txt', [404]],
  ['/sub/..%2f..%2fsecret.txt', [404]],
  ['/%252e%252e/secret.txt', [404]],
  ['/%252e%252e%252fsecret.txt', [404]],
  ['/%25252e%25252e/secret.txt', [404]],
  ['/\\..\\secret.txt', [400, 404]],
  ['/..\\secret.txt', [400, 404]],
  ['/sub\\..\\..\\secret.txt', [400, 404]],
  ['/%5c..%5csecret.txt', [404]],
  ['/%5C..%5Csecret.txt', [404]],
  ['/..%5csecret.txt', [404]],
  ['/%2e%2e%5csecret.txt', [404]],
  ['/sub/../../secret.txt', [400, 404]],
  ['/sub/%2e%2e/%2e%2e/secret.txt', [404]],
  ['/./../secret.txt', [400, 404]],
  ['/%2e/%2e%2e/secret.txt', [404]],
  ['/.%2e/secret.txt', [404]],
  ['//../secret.txt', [400, 404]],
  ['/....//secret.txt', [404]],
  ['/..;/secret.txt', [404]],
  ['/%c0%ae%c0%ae/secret.txt', [400]],
  ['/%c0%ae%c0%ae%c0%afsecret.txt', [400]],
  ['/secret.txt%00.html', [400]],
  ['/%00/../secret.txt', [400]],
  ['/..%00/secret.txt', [400]],
  ['/..%2500/secret.txt', [404]],
  ['/link-out.txt', [404]],
  ['/link-script.ts', [404]],
  ['/link-script', [404]],
  ['/link-page.html', [404]],
  ['/link-page', [404]],
  ['/linkdir/secret.txt', [404]],
  ['/linkdir/', [404]],
  ['/linkdir/evil', [404]],
  ['/linkdir/evil.html', [404]],
  ['/%2e%2e/evil', [404]],
  ['/../evil.html', [400, 404]],
];

describe('hostile URLs never reach outside ROOT', () => {
  it('the table has at least 15 entries and the secret exists next to ROOT', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(15);
    expect(fs.readFileSync(path.join(outside(root), 'secret.txt'), 'utf8')).toContain(SECRET);
  });

  it('absolute path of the secret, encoded', async () => {
    const abs = path.join(outside(root), 'secret.txt');
    for (const p of ['/' + encodeURIComponent(abs), '/' + encodeURIComponent(abs).replace(/%2F/g, '%5C'), abs]) {
      for (const s of [srv, listSrv]) {
        const res = await rawRequest(s.url, p);
        expect([400, 404], p).toContain(res.status);
        expect(res.text).not.toContain(SECRET);
      }
    }
  });

  it.each(HOSTILE)('%s', async (p, statuses) => {
    for (const method of ['GET', 'HEAD']) {
      for (const s of [srv, listSrv]) {
        const res = await rawRequest(s.url, p, { method });
        const label = `${method} ${p} (${s === srv ? 'plain' : '--listing'})`;
        expect(statuses, `${label} answered ${res.status}`).toContain(res.status);
        expect(res.text, label).not.toContain(SECRET);
        expect(res.text, label).not.toContain(SIBLING_NAME);
      }
    }
  });
});

describe('a symbolic link to a folder outside ROOT', () => {
  // SPEC §2: symbolic links that leave ROOT answer 404, without a redirect revealing the folder.
  it('/linkdir (no trailing slash) is 404, not a redirect revealing the folder', async () => {
    for (const s of [srv, listSrv]) {
      const res = await rawRequest(s.url, '/linkdir');
      expect(res.status).toBe(404);
    }
  });
});

describe('malformed URLs (§9)', () => {
  it.each(['/%zz', '/%E0%A4%A', '/a%', '/a%2', '/sub/%ff%fe.txt', '/plain.txt%00', '/a%00b'])('%s is 400', async (p) => {
    const res = await rawRequest(srv.url, p);
    expect(res.status).toBe(400);
  });

  it('the server keeps serving after bad URLs', async () => {
    expect((await get('/plain.txt')).status).toBe(200);
  });
});
