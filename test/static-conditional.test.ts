/**
 * Conditional requests and ranges on static files, by RFC 9110 §13 (§13.2.2's
 * order of evaluation: If-Match, else If-Unmodified-Since → 412; If-None-Match,
 * else If-Modified-Since → 304; then If-Range, with the strong comparison).
 * The same table in production and development, for a file kept in memory, a
 * large file read from disk, and (development) an HTML file fetched by a
 * client that is not a browser navigation, which must be answered as production.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { rawRequest, startServer, tempSite, type Running } from './helpers.js';

const PAST = 'Thu, 01 Jan 1970 00:00:00 GMT';
const FUTURE = new Date(Date.now() + 86400_000).toUTCString();

/** Request headers (E = the file's ETag, WE = its weak form, LM = its Last-Modified) → status. */
const TABLE: [string, Record<string, string>, number, string?][] = [
  ['no condition', {}, 200],
  ['If-Match: its ETag', { 'if-match': 'E' }, 200],
  ['If-Match: another tag', { 'if-match': '"nope"' }, 412],
  ['If-Match: *', { 'if-match': '*' }, 200],
  ['If-Match: a list holding its ETag', { 'if-match': '"nope", E' }, 200],
  ['If-Match: its weak form (strong comparison)', { 'if-match': 'WE' }, 412],
  ['If-Unmodified-Since: 1970', { 'if-unmodified-since': PAST }, 412],
  ['If-Unmodified-Since: tomorrow', { 'if-unmodified-since': FUTURE }, 200],
  ['If-Unmodified-Since: its Last-Modified', { 'if-unmodified-since': 'LM' }, 200],
  ['If-Unmodified-Since: not a date (ignored)', { 'if-unmodified-since': 'yesterday' }, 200],
  ['If-Match holds, If-Unmodified-Since ignored', { 'if-match': 'E', 'if-unmodified-since': PAST }, 200],
  ['If-None-Match: its ETag', { 'if-none-match': 'E' }, 304],
  ['If-None-Match: its weak form (weak comparison)', { 'if-none-match': 'WE' }, 304],
  ['If-None-Match: *', { 'if-none-match': '*' }, 304],
  ['If-None-Match: a list holding its ETag', { 'if-none-match': '"a", E' }, 304],
  ['If-None-Match: another tag', { 'if-none-match': '"nope"' }, 200],
  ['If-Modified-Since: its Last-Modified', { 'if-modified-since': 'LM' }, 304],
  ['If-Modified-Since: 1970', { 'if-modified-since': PAST }, 200],
  ['If-Modified-Since: not a date (ignored)', { 'if-modified-since': 'soon' }, 200],
  ['If-None-Match fails, If-Modified-Since ignored', { 'if-none-match': '"nope"', 'if-modified-since': 'LM' }, 200],
  ['If-None-Match holds, If-Modified-Since ignored', { 'if-none-match': 'E', 'if-modified-since': PAST }, 304],
  ['If-Match fails before If-None-Match', { 'if-match': '"nope"', 'if-none-match': 'E' }, 412],
  ['If-Unmodified-Since fails before If-None-Match', { 'if-unmodified-since': PAST, 'if-none-match': 'E' }, 412],
  ['Range', { range: 'bytes=0-9' }, 206],
  ['Range, suffix', { range: 'bytes=-10' }, 206],
  ['Range, several (whole file)', { range: 'bytes=0-1,5-6' }, 200],
  ['Range beyond the end', { range: 'bytes=99999999-' }, 416],
  ['Range, If-Range: its ETag', { range: 'bytes=0-9', 'if-range': 'E' }, 206],
  ['Range, If-Range: its weak form (strong comparison: whole file)', { range: 'bytes=0-9', 'if-range': 'WE' }, 200],
  ['Range, If-Range: another tag', { range: 'bytes=0-9', 'if-range': '"nope"' }, 200],
  ['Range, If-Range: its Last-Modified', { range: 'bytes=0-9', 'if-range': 'LM' }, 206],
  ['Range, If-Range: another date', { range: 'bytes=0-9', 'if-range': PAST }, 200],
  ['Range, If-None-Match holds (304 first)', { range: 'bytes=0-9', 'if-none-match': 'E' }, 304],
  ['Range, If-Match fails (412 first)', { range: 'bytes=0-9', 'if-match': '"nope"' }, 412],
  ['HEAD, If-None-Match holds', { 'if-none-match': 'E' }, 304, 'HEAD'],
  ['HEAD, If-Match fails', { 'if-match': '"nope"' }, 412, 'HEAD'],
  ['HEAD, Range (ranges are for GET only, §14.2)', { range: 'bytes=0-9' }, 200, 'HEAD'],
];

const FILES = {
  'small.bin': randomBytes(5000),
  'big.bin': randomBytes(400 * 1024),
  'page.html': '<!doctype html><title>t</title><p>' + 'static html '.repeat(20) + '</p>\n',
};

for (const production of [true, false]) {
  describe(`static conditional requests (${production ? 'production' : 'development'})`, () => {
    let server: Running;
    beforeAll(async () => {
      server = await startServer(tempSite(FILES), { production });
    });
    afterAll(() => server.close());

    for (const name of Object.keys(FILES)) {
      it(`${name}: RFC 9110 §13 table`, async () => {
        // A client that is not a browser navigation (curl, fetch from a page): the same answers in both modes.
        const base = { accept: '*/*', 'accept-encoding': 'identity' };
        const first = await rawRequest(server.url, '/' + name, { headers: base });
        expect(first.status).toBe(200);
        const etag = first.headers.etag!;
        const lm = first.headers['last-modified']!;
        expect(etag).toMatch(/^"[^"]+"$/); // strong
        expect(lm).toBeTruthy();
        expect(first.headers['accept-ranges']).toBe('bytes');
        expect(first.headers['cache-control']).toBe(production ? 'public, max-age=0' : 'no-cache');
        const size = (FILES as Record<string, string | Buffer>)[name]!.length;
        const sub = (v: string): string => (v === 'E' ? etag : v === 'WE' ? 'W/' + etag : v === 'LM' ? lm : v.replace(/\bE$/, etag));
        const failures: string[] = [];
        for (const [what, h, status, method] of TABLE) {
          const headers: Record<string, string> = { ...base };
          for (const [k, v] of Object.entries(h)) headers[k] = sub(v);
          const res = await rawRequest(server.url, '/' + name, { headers, method });
          const problems: string[] = [];
          if (res.status !== status) problems.push(`status ${res.status}`);
          if (res.status === 304) {
            if (res.headers.etag !== etag) problems.push(`304 without its ETag (${res.headers.etag})`);
            if (res.body.length) problems.push('304 with a body');
            if (res.headers['cache-control'] === undefined) problems.push('304 without Cache-Control');
          }
          if (res.status === 206) {
            if (!/^bytes \d+-\d+\/\d+$/.test(String(res.headers['content-range']))) problems.push(`content-range ${res.headers['content-range']}`);
            if (method !== 'HEAD' && res.body.length !== 10) problems.push(`206 body of ${res.body.length} bytes`);
          }
          if (res.status === 200 && method !== 'HEAD' && res.body.length !== size) problems.push(`200 body of ${res.body.length} bytes, not ${size}`);
          if (res.status === 416 && res.headers['content-range'] !== `bytes */${size}`) problems.push(`416 content-range ${res.headers['content-range']}`);
          if (res.headers['x-content-type-options'] !== 'nosniff') problems.push('no nosniff');
          if (problems.length) failures.push(`${what}: expected ${status}, ${problems.join(', ')}`);
        }
        expect(failures).toEqual([]);
      });
    }

    it('a static .html shown by a browser (Sec-Fetch-Dest: document) gets the live-reload script in development only', async () => {
      const res = await rawRequest(server.url, '/page.html', { headers: { 'sec-fetch-dest': 'document', accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      if (production) {
        expect(res.text).not.toContain('data-karrigell-live');
        expect(res.headers.etag).toBeTruthy();
      } else {
        expect(res.text).toContain('data-karrigell-live');
      }
    });
  });
}

describe('--static-max-age', () => {
  it('production sends Cache-Control: public, max-age=S with its validators', async () => {
    const server = await startServer(tempSite({ 'a.bin': randomBytes(100) }), { production: true, staticMaxAge: 3600 });
    try {
      const res = await rawRequest(server.url, '/a.bin');
      expect(res.headers['cache-control']).toBe('public, max-age=3600');
      expect(res.headers.etag).toBeTruthy();
      expect(res.headers['last-modified']).toBeTruthy();
    } finally {
      await server.close();
    }
  });
});
