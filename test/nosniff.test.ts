/** SPEC §10: every response carries `X-Content-Type-Options: nosniff` — pages, static files, errors, redirects, listings, the live-reload stream. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { rawRequest, startServer, tempSite, type Running } from './helpers.js';
import { expectServerErrors } from './setup.js';

expectServerErrors(/Error in GET \/crash at crash\.ts/);

const SITE = {
  'hello.ts': "print('<h1>Hello</h1>');\n",
  'long.ts': "print('<p>' + 'long page '.repeat(300) + '</p>');\n",
  'crash.ts': "throw new Error('page crashed');\n",
  'teapot.ts': 'HTTP_ERROR(418);\n',
  'go.ts': "HTTP_REDIRECTION('/hello');\n",
  'api.ts': 'export function ok() { return { fine: true }; }\nexport function web() { return new Response("made by Response", { headers: { "content-type": "text/plain" } }); }\n',
  'a.txt': 'some text\n',
  'folder/b.txt': 'b\n',
  'page.html': '<!doctype html><title>x</title><p>static page</p>',
};

/** The headers of the live-reload event stream (the stream stays open: read the head and go). */
function streamHead(url: string): Promise<http.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      resolve(res.headers);
      req.destroy();
    });
    req.on('error', reject);
  });
}

for (const production of [true, false]) {
  describe(`nosniff (${production ? 'production' : 'development'})`, () => {
    let server: Running;
    beforeAll(async () => {
      server = await startServer(tempSite(SITE), { production, listing: true });
    });
    afterAll(() => server.close());

    it('is on every kind of response', async () => {
      const cases: [string, string, Record<string, string>?, string?][] = [
        ['page', '/hello'],
        ['compressed page', '/long', { 'accept-encoding': 'gzip' }],
        ['HEAD of a page', '/hello', {}, 'HEAD'],
        ['script error (500)', '/crash'],
        ['HTTP_ERROR', '/teapot'],
        ['redirect from a script', '/go'],
        ['service (JSON)', '/api/ok'],
        ['service returning a Response', '/api/web'],
        ['static file', '/a.txt'],
        ['static 304', '/a.txt', { 'if-none-match': '*' }],
        ['static 412', '/a.txt', { 'if-match': '"nope"' }],
        ['static 416', '/a.txt', { range: 'bytes=999-' }],
        ['static 405', '/a.txt', {}, 'POST'],
        ['static HTML, browser navigation', '/page.html', { 'sec-fetch-dest': 'document', accept: 'text/html' }],
        ['404', '/nothing-here'],
        ['400', '/%zz'],
        ['folder redirect (301)', '/folder'],
        ['listing', '/folder/'],
      ];
      const missing: string[] = [];
      for (const [what, p, headers, method] of cases) {
        const res = await rawRequest(server.url, p, { headers, method });
        if (res.headers['x-content-type-options'] !== 'nosniff') missing.push(`${what} (${res.status})`);
      }
      expect(missing).toEqual([]);
    });

    if (!production) {
      it('is on the live-reload event stream and its errors', async () => {
        const head = await streamHead(server.url + '/__karrigell/events?p=hello.ts');
        expect(head['content-type']).toMatch(/event-stream/);
        expect(head['x-content-type-options']).toBe('nosniff');
        expect((await rawRequest(server.url, '/__karrigell/nope')).headers['x-content-type-options']).toBe('nosniff');
        // The in-place update module (its URL is in the script injected into a page a browser loads), and its 405.
        const page = await rawRequest(server.url, '/hello', { headers: { 'sec-fetch-dest': 'document', accept: 'text/html' } });
        const update = /\/__karrigell\/update-[0-9a-f]+\.js/.exec(page.body)?.[0];
        expect(update, 'the update module is named in the injected script').toBeDefined();
        const module = await rawRequest(server.url, update!);
        expect(module.status).toBe(200);
        expect(module.headers['x-content-type-options']).toBe('nosniff');
        const refused = await rawRequest(server.url, update!, { method: 'POST' });
        expect(refused.status).toBe(405);
        expect(refused.headers['x-content-type-options']).toBe('nosniff');
      });
    }
  });
}
