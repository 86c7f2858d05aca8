// Cross-origin protection (SPEC §4, Go 1.25's CrossOriginProtection): unsafe requests from
// another origin are refused with 403 before the script runs and before the body is read.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser, runBrowserTests } from './browser.js';
import { rawRequest, runCli, startServer, tempSite, type Running } from './helpers.js';

const site = tempSite({
  '_lib/seen.ts': 'export const seen: string[] = [];\n',
  // Records every run, so a test sees whether the script ran.
  'post.ts': "import { seen } from './_lib/seen.ts';\nseen.push(`${REQUEST_HANDLER.method} ${QUERY.msg ?? ''}`);\nprint(`<!doctype html><title>stored</title><p id=\"done\">stored ${QUERY.msg ?? ''}</p>`);\n",
  'seen.ts': "import { seen } from './_lib/seen.ts';\nRESPONSE.headers['content-type'] = 'application/json';\nprint(JSON.stringify(seen));\n",
  'form.html': '<!doctype html><title>own form</title><form method="post" action="/post"><input name="msg" value="own"><button>Send</button></form>\n',
  'static.txt': 'a static file\n',
});

let server: Running;
let host: string;
beforeAll(async () => {
  server = await startServer(site, { allowOrigin: ['https://trusted.example/'] });
  host = new URL(server.url).host;
});
afterAll(async () => {
  await server?.close();
});

async function seen(): Promise<string[]> {
  return (await (await fetch(server.url + '/seen')).json()) as string[];
}

type Row = [label: string, method: string, status: number, headers: Record<string, string>];
// `HOST` stands for the server's host:port (known once it listens).
const ROWS: Row[] = [
  ['no Sec-Fetch-Site, no Origin (curl)', 'POST', 200, {}],
  ['Sec-Fetch-Site: same-origin', 'POST', 200, { 'sec-fetch-site': 'same-origin', origin: 'http://HOST' }],
  ['Sec-Fetch-Site: none (typed by the user)', 'POST', 200, { 'sec-fetch-site': 'none' }],
  ['Sec-Fetch-Site: same-site', 'POST', 403, { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' }],
  ['Sec-Fetch-Site: cross-site', 'POST', 403, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
  ['Sec-Fetch-Site: cross-site without Origin', 'POST', 403, { 'sec-fetch-site': 'cross-site' }],
  ['Sec-Fetch-Site: same-origin wins over a foreign Origin', 'POST', 200, { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }],
  ['Origin = Host (older browser)', 'POST', 200, { origin: 'http://HOST' }],
  ['Origin = Host over https (scheme not compared, as Go)', 'POST', 200, { origin: 'https://HOST' }],
  ['Origin host differs from Host', 'POST', 403, { origin: 'https://evil.example' }],
  ['Origin on another port of the same host', 'POST', 403, { origin: 'http://127.0.0.1:1' }],
  ['Origin: null (sandboxed frame, opaque origin)', 'POST', 403, { origin: 'null' }],
  ['PUT from another origin', 'PUT', 403, { origin: 'https://evil.example' }],
  ['PATCH from another origin', 'PATCH', 403, { 'sec-fetch-site': 'cross-site' }],
  ['DELETE from another origin', 'DELETE', 403, { 'sec-fetch-site': 'cross-site' }],
  ['--allow-origin (written with a slash) passes, Sec-Fetch-Site: cross-site', 'POST', 200, { 'sec-fetch-site': 'cross-site', origin: 'https://trusted.example' }],
  ['--allow-origin passes, Origin only', 'POST', 200, { origin: 'https://TRUSTED.example:443' }],
  ['an allowed origin on another port is another origin', 'POST', 403, { origin: 'https://trusted.example:8443' }],
  ['GET is never refused', 'GET', 200, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
  ['HEAD is never refused', 'HEAD', 200, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
  ['OPTIONS is never refused', 'OPTIONS', 200, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
];

describe('the header table', () => {
  it.each(ROWS)('%s (%s → %i)', async (label, method, status, table) => {
    const headers = Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v.replace('HOST', host)]));
    const before = (await seen()).length;
    const msg = `row${ROWS.findIndex((r) => r[0] === label)}`;
    const res = await rawRequest(server.url, '/post', {
      method,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: method === 'GET' || method === 'HEAD' ? undefined : `msg=${msg}`,
    });
    expect(res.status, label).toBe(status);
    const after = await seen();
    if (status === 403) {
      expect(after.length, `${label}: the script must not run`).toBe(before);
      expect(res.text).toContain('Cross-origin request refused');
    } else {
      expect(after.length, `${label}: the script runs`).toBe(before + 1);
      if (method !== 'GET' && method !== 'HEAD') expect(after.at(-1)).toBe(`${method} ${msg}`);
    }
  });

  it('a browser gets the 403 as an HTML page, other clients as text', async () => {
    const page = await rawRequest(server.url, '/post', { method: 'POST', headers: { origin: 'https://evil.example', accept: 'text/html,*/*' }, body: '' });
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<title>403 Forbidden</title>');
    const text = await rawRequest(server.url, '/post', { method: 'POST', headers: { origin: 'https://evil.example' }, body: '' });
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toContain('--allow-origin https://evil.example');
  });

  it('static files and missing pages are not concerned (405 and 404 as before)', async () => {
    const cross = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
    expect((await rawRequest(server.url, '/static.txt', { method: 'POST', headers: cross, body: '' })).status).toBe(405);
    expect((await rawRequest(server.url, '/nothing', { method: 'POST', headers: cross, body: '' })).status).toBe(404);
  });
});

it('answers 403 before reading the body: a body that never comes does not delay it', async () => {
  const u = new URL(server.url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), path: '/post', method: 'POST', agent: false, headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded', 'content-length': '1000000' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders(); // headers only: the promised megabyte is never sent
  });
  expect(status).toBe(403);
});

describe('--allow-origin on the command line', () => {
  it('rejects a value that is not an origin, in one line', async () => {
    const r = await runCli(['serve', site, '--port', '0', '--allow-origin', 'https://app.example/path']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('karrigell-ts: --allow-origin: "https://app.example/path" is not an origin (write scheme://host[:port], e.g. https://app.example or http://localhost:3000)');
  });

  it('is listed in --help', async () => {
    const r = await runCli(['--help']);
    expect(r.stdout).toContain('--allow-origin ORIGIN');
  });
});

describe.runIf(runBrowserTests)('in Chromium: a form on another origin is refused, the site\'s own form accepted', () => {
  let browser: Browser;
  let other: http.Server;
  let otherPort: number;

  beforeAll(async () => {
    browser = await launchBrowser();
    // The second origin: another port of this machine, serving a form that posts to the site.
    other = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>other origin</title><form method="post" action="${server.url}/post"><input name="msg" value="forged"><button>Send</button></form>`);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherPort = (other.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => other?.close(resolve));
  });

  it.each([
    ['127.0.0.1 on another port (same-site)', () => `http://127.0.0.1:${otherPort}/`],
    ['localhost on another port (cross-site)', () => `http://localhost:${otherPort}/`],
  ])('a form served by %s posting to the site gets 403 and the script does not run', async (_label, url) => {
    const before = (await seen()).length;
    const page = await browser.newPage();
    await page.goto(url());
    const [response] = await Promise.all([page.waitForResponse((r) => r.url() === server.url + '/post'), page.click('button')]);
    expect(response.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.title()).toBe('403 Forbidden');
    expect(await seen()).toHaveLength(before);
    await page.close();
  });

  it('a fetch() no-cors POST from the other origin does not run the script either', async () => {
    const before = (await seen()).length;
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${otherPort}/`);
    await page.evaluate(async (target) => {
      await fetch(target, { method: 'POST', mode: 'no-cors', body: new URLSearchParams({ msg: 'fetched' }) });
    }, server.url + '/post');
    expect(await seen()).toHaveLength(before);
    await page.close();
  });

  it('the site\'s own form is accepted', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + '/form.html');
    const [response] = await Promise.all([page.waitForResponse((r) => r.url() === server.url + '/post'), page.click('button')]);
    expect(response.status()).toBe(200);
    expect(await page.textContent('#done')).toBe('stored own');
    expect((await seen()).at(-1)).toBe('POST own');
    await page.close();
  });
});
