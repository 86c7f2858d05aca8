/**
 * HTTPS and HTTP/2 (SPEC §1, §10): --tls-cert/--tls-key serve h2 and
 * HTTP/1.1 on one port (ALPN); sessions (Secure cookie), uploads, services,
 * static ranges and live reload's event stream work over h2 (node:http2 as
 * the client, a certificate made by openssl); --https makes a localhost
 * certificate once and keeps it; Chromium over h2.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http2 from 'node:http2';
import https from 'node:https';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { tempSite, multipart, spawnCli, runCli, sleep, PROJECT, type CliProcess } from './helpers.js';
import { CHROMIUM, runBrowserTests } from './browser.js';

interface Running {
  url: string;
  close(graceMs?: number): Promise<void>;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-tls-'));
const CERT = path.join(dir, 'cert.pem');
const KEY = path.join(dir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', KEY, '-out', CERT, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
const CA = fs.readFileSync(CERT);

const STATIC = Buffer.from(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
const BIG = crypto.randomBytes(3 * 1024 * 1024);
const SITE = {
  'counter.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nconst so = Session();\nso.n = ((so.n as number | undefined) ?? 0) + 1;\nprint(`n=${so.n} ${REQUEST_HANDLER.protocol} ${REQUEST_HANDLER.httpVersion} ${REQUEST_HANDLER.host}`);\n',
  'upload.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nconst f = QUERY.f as { filename: string; size: number };\nprint(`${QUERY.who} ${f.filename} ${f.size}`);\n',
  'svc.tsx': 'export function index() {\n  return <b>{QUERY.x ?? "none"}</b>;\n}\n',
  'data.txt': STATIC,
  'page.ts': 'print(`<!doctype html><html><body><h1>v1</h1></body></html>`);',
  'node.ts':
    'RESPONSE.headers["x-before"] = "1";\nconst { req, res } = REQUEST_HANDLER;\nres.setHeader("x-node", req.constructor.name);\nprint(`${req.constructor.name} ${res.constructor.name} ${req.url} ${req.headers[":method"]} ${req.rawHeaders.includes(":path")}`);\n',
  'nothing.ts': 'RESPONSE.status = 204;\n',
  'big.bin': BIG,
  'echo.ts': 'print(`got ${QUERY.a}`);\n',
};

let root: string;
let server: Running;

interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on an h2 session. */
function h2(session: http2.ClientHttp2Session, pathname: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': opts.method ?? 'GET', ':path': pathname, ...opts.headers });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(opts.body);
  });
}

function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, { ca: CA, servername: 'localhost' });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

beforeAll(async () => {
  root = tempSite(SITE);
  const mod = (await import(path.join(PROJECT, 'dist', 'index.js'))) as { createServer(o: Record<string, unknown>): Promise<Running> };
  server = await mod.createServer({ root, port: 0, host: '127.0.0.1', quiet: true, tlsCert: CERT, tlsKey: KEY });
}, 30_000);

afterAll(async () => {
  await server?.close(500);
});

describe('--tls-cert/--tls-key: h2 and HTTP/1.1 on one port', () => {
  it('the URL is https://, ALPN picks h2 for an h2 client and HTTP/1.1 for the others', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const session = await connect(server.url);
    expect(session.alpnProtocol).toBe('h2');
    const r = await h2(session, '/counter');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toMatch(/^n=1 https 2\.0 (127\.0\.0\.1|localhost):\d+\n$/);
    session.close();
    const h1 = await new Promise<{ status: number; text: string; alpn: string | false }>((resolve, reject) => {
      https
        .get(server.url + '/counter', { ca: CA, servername: 'localhost', ALPNProtocols: ['http/1.1'] } as https.RequestOptions, (res) => {
          let text = '';
          const alpn = (res.socket as import('node:tls').TLSSocket).alpnProtocol;
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, text, alpn }));
        })
        .on('error', reject);
    });
    expect(h1.alpn).toBe('http/1.1');
    expect(h1.status).toBe(200);
    expect(h1.text).toMatch(/^n=1 https 1\.1 /);
  });

  it('sessions over h2: the cookie is Secure and brings the session back', async () => {
    const session = await connect(server.url);
    const first = await h2(session, '/counter');
    const set = ([] as string[]).concat(first.headers['set-cookie'] ?? []);
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(/^sessionId=[^;]+;.*HttpOnly/);
    expect(set[0]).toMatch(/; Secure/);
    const cookie = set[0]!.split(';')[0]!;
    const second = await h2(session, '/counter', { headers: { cookie } });
    expect(second.body.toString()).toMatch(/^n=2 /);
    session.close();
  });

  it('uploads over h2 (multipart), and a body over the limit is 413 without a connection header', async () => {
    const session = await connect(server.url);
    const form = multipart([
      { name: 'who', value: 'ann' },
      { name: 'f', filename: 'a.bin', data: crypto.randomBytes(200_000) },
    ]);
    const r = await h2(session, '/upload', { method: 'POST', headers: { 'content-type': form.type }, body: form.body });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('ann a.bin 200000\n');
    const big = await h2(session, '/upload', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(big.headers.connection).toBeUndefined();
    // The session goes on serving other streams.
    expect((await h2(session, '/svc/index?x=%3Cy%3E')).body.toString()).toBe('<b>&lt;y&gt;</b>');
    session.close();
  });

  it('static files and ranges over h2', async () => {
    const session = await connect(server.url);
    const whole = await h2(session, '/data.txt');
    expect(whole.status).toBe(200);
    expect(whole.body.equals(STATIC)).toBe(true);
    const part = await h2(session, '/data.txt', { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${STATIC.length}`);
    expect(part.body.equals(STATIC.subarray(100, 200))).toBe(true);
    session.close();
  });

  it("live reload's event stream over h2: no connection header, events arrive", async () => {
    const session = await connect(server.url);
    const page = await h2(session, '/page', { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } });
    const config = /"b":"([0-9a-f]+)","s":(\d+)/.exec(page.body.toString());
    expect(config, 'the live-reload client is in the page').not.toBeNull();
    const stream = session.request({ ':path': `/__karrigell/events?b=${config![1]}&s=${config![2]}&p=page.ts`, accept: 'text/event-stream' });
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expect(headers.connection).toBeUndefined();
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (text += c));
    await sleep(300);
    fs.writeFileSync(path.join(root, 'page.ts'), 'print(`<!doctype html><html><body><h1>v2</h1></body></html>`);');
    for (let i = 0; i < 50 && !/event: reload/.test(text); i++) await sleep(100);
    expect(text).toMatch(/^retry: /);
    expect(text).toMatch(/event: reload/);
    stream.close();
    session.close();
  });
});

describe("HTTP/2 streams without Node's compatibility objects (http/h2.ts)", () => {
  it("REQUEST_HANDLER.req/.res are still Node's (made when asked for), and what a script sets through them goes out with the page", async () => {
    const session = await connect(server.url);
    const r = await h2(session, '/node?q=1');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('Http2ServerRequest Http2ServerResponse /node?q=1 GET true\n');
    expect(r.headers['x-node']).toBe('Http2ServerRequest');
    expect(r.headers['x-before']).toBe('1');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    // The next stream of the session is served as usual.
    expect((await h2(session, '/echo?a=2')).body.toString()).toBe('got 2\n');
    session.close();
  });

  it('HEAD has the head of GET and no body; 204 and 304 have no body; HTTP/2 has no connection headers', async () => {
    const session = await connect(server.url);
    const get = await h2(session, '/echo?a=xyz');
    const head = await h2(session, '/echo?a=xyz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(get.body.length);
    expect(head.headers['x-content-type-options']).toBe('nosniff');
    const none = await h2(session, '/nothing');
    expect(none.status).toBe(204);
    expect(none.body.length).toBe(0);
    const first = await h2(session, '/data.txt');
    const again = await h2(session, '/data.txt', { headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // A cross-origin POST is refused before its body is read: on HTTP/1.1 with `connection: close`, a header HTTP/2 forbids.
    const refused = await h2(session, '/echo', { method: 'POST', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(refused.status).toBe(403);
    expect(refused.headers.connection).toBeUndefined();
    session.close();
  });

  it('Expect: 100-continue gets its 100 before the body is sent; another expectation is 417; CONNECT is 405', async () => {
    const session = await connect(server.url);
    const stream = session.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'application/x-www-form-urlencoded', expect: '100-continue' });
    await new Promise<void>((resolve, reject) => {
      stream.once('continue', resolve);
      stream.once('error', reject);
      setTimeout(() => reject(new Error('no 100 Continue')), 3000);
    });
    stream.end('a=after-continue');
    const chunks: Buffer[] = [];
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => stream.once('end', resolve));
    expect(status).toBe(200);
    expect(Buffer.concat(chunks).toString()).toBe('got after-continue\n');
    const refused = await h2(session, '/echo', { headers: { expect: 'something-else' } });
    expect(refused.status).toBe(417);
    expect(refused.headers['x-content-type-options']).toBe('nosniff');
    const tunnel = session.request({ ':method': 'CONNECT', ':authority': 'elsewhere.example:443' });
    const connectStatus = await new Promise<number>((resolve) => tunnel.once('response', (h) => resolve(Number(h[':status']))));
    tunnel.close();
    expect(connectStatus).toBe(405);
    session.close();
  });

  it('a 3 MB file streams whole; a client that resets mid-file leaves the server serving', async () => {
    const session = await connect(server.url);
    const whole = await h2(session, '/big.bin');
    expect(whole.status).toBe(200);
    expect(Number(whole.headers['content-length'])).toBe(BIG.length);
    expect(whole.body.equals(BIG)).toBe(true);
    for (let i = 0; i < 5; i++) {
      const stream = session.request({ ':path': '/big.bin' });
      await new Promise((resolve) => stream.once('data', resolve));
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    const after = await h2(session, '/data.txt', { headers: { range: 'bytes=0-9' } });
    expect(after.status).toBe(206);
    expect(after.body.equals(STATIC.subarray(0, 10))).toBe(true);
    session.close();
  });
});

describe('idle HTTP/2 connections', () => {
  it('a connection without a stream is closed after 5 s (as an idle HTTP/1.1 keep-alive one), one with an open stream is kept', async () => {
    const idle = await connect(server.url);
    const busy = await connect(server.url);
    expect((await h2(idle, '/counter')).status).toBe(200);
    // The live-reload event stream stays open (and quiet: its heartbeat comes every 20 s).
    const page = await h2(busy, '/page', { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } });
    const config = /"b":"([0-9a-f]+)","s":(\d+)/.exec(page.body.toString());
    const stream = busy.request({ ':path': `/__karrigell/events?b=${config![1]}&s=${config![2]}&p=page.ts`, accept: 'text/event-stream' });
    stream.resume();
    await new Promise((resolve) => stream.once('response', resolve));
    const closedAt = new Promise<number>((resolve) => idle.once('close', () => resolve(performance.now())));
    const started = performance.now();
    const after = await Promise.race([closedAt, sleep(9000).then(() => -1)]);
    expect(after, 'the idle connection was closed').toBeGreaterThan(0);
    expect(after - started).toBeGreaterThan(4000);
    expect(busy.closed || busy.destroyed, 'the connection with a stream open is kept').toBe(false);
    // Once its last stream ends, its own 5 s start.
    stream.close();
    const busyClosed = await Promise.race([new Promise((resolve) => busy.once('close', () => resolve(true))), sleep(9000).then(() => false)]);
    expect(busyClosed).toBe(true);
  }, 30_000);
});

describe('close() over h2', () => {
  it('ends open sessions (an event stream included) well before the grace, and a running request finishes', async () => {
    const site = tempSite({ 'page.ts': 'print(`<!doctype html><html><body>x</body></html>`);', 'slow.ts': 'await new Promise((r) => setTimeout(r, 400));\nprint("slow done");' });
    const mod = (await import(path.join(PROJECT, 'dist', 'index.js'))) as { createServer(o: Record<string, unknown>): Promise<Running> };
    const s = await mod.createServer({ root: site, port: 0, host: '127.0.0.1', quiet: true, tlsCert: CERT, tlsKey: KEY });
    const session = await connect(s.url);
    const events = session.request({ ':path': '/__karrigell/events?a=1', accept: 'text/event-stream' });
    await new Promise((resolve) => events.once('response', resolve));
    events.resume();
    const ended = new Promise((resolve) => events.once('close', resolve));
    const slow = h2(session, '/slow');
    await sleep(100);
    const t0 = Date.now();
    await s.close(8000);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect((await slow).body.toString()).toBe('slow done\n');
    await ended;
    expect(session.closed || session.destroyed).toBe(true);
  });
});

describe('errors of the TLS options: one line, exit 1', () => {
  it('a missing certificate file, a key without its certificate, a key that is not the certificate’s', async () => {
    const site = tempSite({ 'a.txt': 'a' });
    const missing = await runCli(['serve', site, '--port', '0', '--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', KEY]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^karrigell-ts: --tls-cert: cannot read .*nope\.pem \(ENOENT\)$/);
    const half = await runCli(['serve', site, '--port', '0', '--tls-key', KEY]);
    expect(half.code).toBe(1);
    expect(half.stderr.trim()).toBe('karrigell-ts: --tls-key needs --tls-cert too');
    const otherKey = path.join(dir, 'other.pem');
    fs.writeFileSync(otherKey, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const wrong = await runCli(['serve', site, '--port', '0', '--tls-cert', CERT, '--tls-key', otherKey]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/are not a PEM certificate and its key/);
  });
});

describe('--https: a development certificate for localhost, made once and kept', () => {
  const running: CliProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill()));
  });

  it('the banner says https://, the certificate is in $XDG_CACHE_HOME/karrigell-ts and is reused by the next start', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-cache-'));
    const site = tempSite({ 'hi.ts': 'print("hi " + REQUEST_HANDLER.httpVersion);' });
    const start = async (): Promise<{ url: string; fingerprint: string }> => {
      const cli = await spawnCli(['serve', site, '--https', '--port', '0', '--quiet'], { XDG_CACHE_HOME: cache });
      running.push(cli);
      expect(cli.stdout()).toMatch(/serving .* at https:\/\/127\.0\.0\.1:\d+ /);
      const url = /https:\/\/[^\s]+/.exec(cli.stdout())![0];
      const session = http2.connect(url, { rejectUnauthorized: false });
      const fingerprint = await new Promise<string>((resolve) => session.once('connect', () => resolve((session.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!.fingerprint256)));
      expect((await h2(session, '/hi')).body.toString()).toBe('hi 2.0\n');
      session.close();
      await cli.kill();
      return { url, fingerprint };
    };
    const first = await start();
    const kept = path.join(cache, 'karrigell-ts', 'localhost-cert.pem');
    const x509 = new crypto.X509Certificate(fs.readFileSync(kept));
    expect(x509.fingerprint256).toBe(first.fingerprint);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const second = await start();
    expect(second.fingerprint).toBe(first.fingerprint);
  }, 30_000);

  it('in production the primary makes it once for its workers, which serve it', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-cache-'));
    const site = tempSite({ 'hi.ts': 'print("hi " + process.pid);' });
    const cli = await spawnCli(['serve', site, '--https', '--production', '--port', '0', '--quiet'], { XDG_CACHE_HOME: cache });
    running.push(cli);
    expect(cli.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const kept = new crypto.X509Certificate(fs.readFileSync(path.join(cache, 'karrigell-ts', 'localhost-cert.pem')));
    const session = http2.connect(cli.url, { rejectUnauthorized: false });
    const served = await new Promise<string>((resolve) => session.once('connect', () => resolve((session.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!.fingerprint256)));
    expect(served).toBe(kept.fingerprint256);
    const answer = (await h2(session, '/hi')).body.toString();
    // A worker answers, not the primary.
    expect(answer).toMatch(/^hi \d+\n$/);
    expect(Number(answer.split(' ')[1])).not.toBe(cli.child.pid);
    session.close();
  }, 30_000);
});

describe.skipIf(!runBrowserTests)('Chromium over HTTPS', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--no-first-run'] });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('loads a page over h2, keeps its Secure session cookie, and live reload updates the page', async () => {
    fs.writeFileSync(path.join(root, 'live.ts'), 'const so = Session();\nso.n = ((so.n as number | undefined) ?? 0) + 1;\nprint(`<!doctype html><html><body><h1>one</h1><p>${so.n}</p></body></html>`);');
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(server.url + '/live');
    expect(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol)).toBe('h2');
    expect(await page.textContent('p')).toBe('1');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'sessionId')).toMatchObject({ secure: true, httpOnly: true });
    await page.reload();
    expect(await page.textContent('p')).toBe('2');
    await sleep(300);
    fs.writeFileSync(path.join(root, 'live.ts'), 'const so = Session();\nprint(`<!doctype html><html><body><h1>two</h1><p>${so.n}</p></body></html>`);');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'two');
    await context.close();
  }, 30_000);
});
