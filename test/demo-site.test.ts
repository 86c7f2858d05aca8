// The demo site: its error page shows the TypeScript location, in development and in the production log
// (regression: frames of a site inside the package folder were dropped as the server's own).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from '../dist/index.js';
import { multipart, PROJECT } from './helpers.js';

const root = path.join(PROJECT, 'www');

it('development: /broken shows broken.ts:8:22, a code frame and the mapped stack', async () => {
  const server = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true }, { access() {}, info() {}, error() {} });
  try {
    const res = await fetch(server.url + '/broken');
    const body = await res.text();
    expect(res.status).toBe(500);
    expect(body).toContain('broken.ts:8:22');
    expect(body).toContain('&gt;  8 |   return order.lines.reduce');
    expect(body).toContain('at total (broken.ts:8:22)');
  } finally {
    await server.close();
  }
});

it('production: the log line of /broken names broken.ts:8:22 under the request id', async () => {
  const errors: string[] = [];
  const server = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true }, { access() {}, info() {}, error: (m: string) => void errors.push(m) });
  try {
    const res = await fetch(server.url + '/broken');
    const id = res.headers.get('x-request-id');
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('broken.ts');
    expect(errors.find((l) => l.includes(`[${id}]`))).toContain('broken.ts:8:22');
  } finally {
    await server.close();
  }
});

describe('every page of the demo is a whole page: 200, a title, the shared layout, nothing after </html>', () => {
  let server: Awaited<ReturnType<typeof createServer>>;
  const browser = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
  beforeAll(async () => {
    process.env.GUESTBOOK_DB = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kts-demo-')), 'guestbook.sqlite');
    server = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true }, { access() {}, info() {}, error() {} });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The body of an HTML answer must be one document with a title. */
  function expectWholePage(body: string, what: string): void {
    expect(body, what).toMatch(/<title>[^<]+<\/title>/);
    expect(body.trimEnd().endsWith('</html>'), `${what}: something after </html>, or no </html>`).toBe(true);
    expect(body.match(/<\/html>/g), what).toHaveLength(1);
  }

  it('the pages linked from the home page, and the pages their forms lead to', async () => {
    const home = await (await fetch(server.url + '/')).text();
    const links = [...home.matchAll(/<li><a href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    expect(links.length).toBeGreaterThanOrEqual(15);
    const more = ['/', '/stop?go=end', '/calc/add?a=2&b=3', '/session/read', '/session/close', '/upload.html', '/form.html'];
    for (const link of [...links, ...more]) {
      const res = await fetch(server.url + link, { headers: browser });
      const body = await res.text();
      const expected = link === '/protected' ? 401 : link === '/broken' ? 500 : 200;
      expect(res.status, link).toBe(expected);
      if (expected === 401) continue; // the browser asks for the password
      expectWholePage(body, link);
      if (expected === 200) expect(body, `${link}: the shared layout`).toContain('<header><a href="/">karrigell-ts</a>');
    }
    const posted = await fetch(server.url + '/greet', { method: 'POST', body: new URLSearchParams({ name: 'Ann', 'colour[]': 'red' }) });
    expectWholePage(await posted.text(), 'POST /greet');
    const stored = await fetch(server.url + '/session/store', { method: 'POST', body: new URLSearchParams({ firstname: 'Ada', name: 'Lovelace' }) });
    expectWholePage(await stored.text(), 'POST /session/store');
    const authed = await fetch(server.url + '/protected', { headers: { ...browser, authorization: 'Basic ' + Buffer.from('demo:secret').toString('base64') } });
    expect(authed.status).toBe(200);
    expectWholePage(await authed.text(), '/protected with the password');
  });

  it('/stop: SCRIPT_END sends a whole page; the teapot is an HTML page for a browser', async () => {
    const ended = await (await fetch(server.url + '/stop?go=end')).text();
    expect(ended).toContain('SCRIPT_END() ran');
    expect(ended).not.toContain('this paragraph is printed');
    const teapot = await fetch(server.url + '/stop?go=teapot', { headers: browser });
    expect(teapot.status).toBe(418);
    expect(teapot.headers.get('content-type')).toMatch(/^text\/html/);
    expectWholePage(await teapot.text(), '418');
  });

  it('the upload form sent without a file says so (not "File received, 0 bytes")', async () => {
    // What a browser sends when no file was chosen: the part, with an empty file name and no bytes.
    const { body, type } = multipart([{ name: 'file', filename: '', data: Buffer.alloc(0) }, { name: 'comment', value: 'my file' }]);
    const res = await fetch(server.url + '/upload', { method: 'POST', headers: { 'content-type': type }, body });
    const page = await res.text();
    expect(res.status).toBe(200);
    expect(page).toContain('<title>No file chosen · karrigell-ts</title>');
    expect(page).not.toContain('bytes');
    const sent = multipart([{ name: 'file', filename: 'a.txt', type: 'text/plain', data: Buffer.from('hello') }]);
    const received = await (await fetch(server.url + '/upload', { method: 'POST', headers: { 'content-type': sent.type }, body: sent.body })).text();
    expect(received).toContain('<td>5 bytes</td>');
  });
});
