/**
 * One way out for error answers (sendError): the same status has the same
 * format wherever it comes from — an HTML page for a browser navigation, the
 * message for other clients, JSON for a service called by fetch() (SPEC §4, §9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempSite, type Running } from './helpers.js';
import { expectServerErrors } from './setup.js';

expectServerErrors(/Error in GET \/(api\/broken|crash)/);

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

const files = {
  'api.ts': [
    'export function missing() { HTTP_ERROR(404, "no such entry"); }',
    'export function teapot() { throw new HTTP_ERROR(418); }',
    'export function broken() { throw new Error("the database is down"); }',
    'export function _secret() { return "hidden"; }',
    'export function ok() { return { fine: true }; }',
  ].join('\n'),
  'page.ts': 'print("before");\nHTTP_ERROR(403, "members only");\n',
  'crash.ts': 'throw new Error("page crashed");\n',
  'file.txt': 'static\n',
};

for (const production of [false, true]) {
  describe(`error answers (${production ? 'production' : 'development'})`, () => {
    let srv: Running;
    beforeAll(async () => {
      srv = await startServer(tempSite(files), { production });
    });
    afterAll(async () => srv?.close());

    it('a service’s HTTP_ERROR is JSON for fetch(), a page for a browser', async () => {
      const a = await fetch(srv.url + '/api/missing');
      expect(a.status).toBe(404);
      expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await a.json()).toEqual({ error: 'no such entry', status: 404 });
      const b = await fetch(srv.url + '/api/missing', { headers: HTML });
      expect(b.status).toBe(404);
      expect(b.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await b.text()).toContain('no such entry');
      const c = await fetch(srv.url + '/api/teapot');
      expect(await c.json()).toEqual({ error: "I'm a Teapot", status: 418 });
    });

    it('an unknown service is a JSON 404; a private one is refused like every `_` name', async () => {
      const res = await fetch(srv.url + '/api/nope', { method: 'POST', body: '' });
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: string; status: number };
      expect(body).toEqual({ error: expect.stringContaining('"nope"'), status: 404 });
      const hidden = await fetch(srv.url + '/api/_secret');
      expect(hidden.status).toBe(404);
      expect(await hidden.text()).not.toContain('hidden');
    });

    it('an uncaught error of a service is a JSON 500 (the generic message with the request id in production)', async () => {
      const res = await fetch(srv.url + '/api/broken');
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: string; status: number };
      expect(body.status).toBe(500);
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(/^[0-9a-f]{12}$/);
      if (production) {
        expect(body.error).toContain(id);
        expect(body.error).not.toContain('database');
      } else {
        expect(body.error).toContain('the database is down');
        expect(body.error).toMatch(/api\.ts:3:\d+/);
      }
      const ok = await fetch(srv.url + '/api/ok');
      expect(await ok.json()).toEqual({ fine: true });
    });

    it('a page’s HTTP_ERROR: the message for fetch(), a page for a browser; nothing printed before goes out', async () => {
      const a = await fetch(srv.url + '/page');
      expect(a.status).toBe(403);
      expect(a.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await a.text()).toBe('members only\n');
      const b = await fetch(srv.url + '/page', { headers: HTML });
      expect(b.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await b.text();
      expect(html).toContain('<title>403 Forbidden</title>');
      expect(html).toContain('members only');
      expect(html).not.toContain('before');
    });

    it('the server’s own 404 and 405 have the same formats as a script’s', async () => {
      const a = await fetch(srv.url + '/nowhere');
      expect(a.status).toBe(404);
      expect(a.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await a.text()).toBe('Nothing at /nowhere\n');
      const b = await fetch(srv.url + '/nowhere', { headers: HTML });
      expect(await b.text()).toContain('<title>404 Not Found</title>');
      const c = await fetch(srv.url + '/file.txt', { method: 'DELETE' });
      expect(c.status).toBe(405);
      expect(c.headers.get('allow')).toBe('GET, HEAD');
      expect(c.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const d = await fetch(srv.url + '/nowhere', { method: 'HEAD' });
      expect(d.status).toBe(404);
      expect(await d.text()).toBe('');
    });

    it('a page’s uncaught error is an HTML page for every client', async () => {
      const res = await fetch(srv.url + '/crash');
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const text = await res.text();
      if (production) expect(text).not.toContain('page crashed');
      else expect(text).toContain('page crashed');
    });
  });
}
