/**
 * The development type banner (issue 7): type errors of the requested page are
 * computed in a worker thread after the response, and shown on the next load.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT, sleep, startServer, tempSite, type Running } from './helpers.js';

interface Banner {
  filter(result: { status: number; headers: Record<string, string>; body: unknown }, ctx: { file: string }): void;
  close(): Promise<void>;
  running(): boolean;
}
const { createTypeBanner } = (await import(path.join(PROJECT, 'dist', 'typecheck', 'type-banner.js'))) as {
  createTypeBanner(root: string, log: { access(): void; info(m: string): void; error(m: string): void }, options?: { idleMs?: number }): Banner;
};

const { releaseTsWorker, tsWorkerGeneration } = (await import(path.join(PROJECT, 'dist', 'syntax', 'ts-worker.js'))) as {
  releaseTsWorker(): Promise<void>;
  tsWorkerGeneration(): number | undefined;
};

const BANNER = 'id="kts-type-errors"';

const root = tempSite({
  'bad.ts': '// A type error: the page still runs.\nconst later: Promise<number> = 1;\nprint(`<!doctype html><html><body><p>bad ${later}</p></body></html>`);\n',
  'good.ts': 'const n: number = 2;\nprint(`<!doctype html><p>good ${n}</p>`);\n',
  'page.tsp': '<!doctype html>\n<p><%= QUERY.q %></p>\n<p>one <% const k: number = "x"; %><%= k %> <%= QUERY.n.length %></p>\n',
  'later.ts': 'print("<p>fixed later</p>");\n',
});

const servers: Running[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

/** What a browser sends when it loads a page: only those loads are type-checked. */
const NAVIGATION = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', accept: 'text/html' };

async function get(url: string, headers: Record<string, string> = NAVIGATION): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - t0 };
}

/** Loads `url` until `done(body)` (bounded); resolves to the last body. */
async function poll(url: string, done: (body: string) => boolean, ms = 40_000): Promise<string> {
  const deadline = Date.now() + ms;
  let body = '';
  while (Date.now() < deadline) {
    body = (await get(url)).text;
    if (done(body)) return body;
    await sleep(150);
  }
  return body;
}

describe('type banner', () => {
  it('shows the page type errors after a background check; the first response is not delayed', async () => {
    const server = await startServer(root);
    servers.push(server);
    const started = Date.now();
    const first = await get(server.url + '/bad');
    expect(first.status).toBe(200);
    expect(first.text).toContain('<p>bad 1</p>'); // esbuild compiles without checking: the page runs
    expect(first.text).not.toContain(BANNER);
    const good = await get(server.url + '/good');
    expect(good.text).not.toContain(BANNER);
    const body = await poll(server.url + '/bad', (b) => b.includes(BANNER));
    const tillBanner = Date.now() - started;
    expect(body).toContain(BANNER);
    // The first response came long before the check (TypeScript alone takes about a second to load).
    expect(first.ms).toBeLessThan(tillBanner);
    expect(first.ms).toBeLessThan(1500);
    // file:line:col message, HTML-escaped, a close button, fixed at the top, before </body>.
    expect(body).toContain('bad.ts:2:7</b> Type &#39;number&#39; is not assignable to type &#39;Promise&lt;number&gt;&#39;.');
    expect(body).toMatch(/<button[^>]*onclick="this\.parentNode\.remove\(\)"/);
    expect(body).toMatch(/position:fixed;top:0/);
    expect(body.indexOf(BANNER)).toBeLessThan(body.lastIndexOf('</body>'));
    expect(body).toContain('<p>bad 1</p>');
    // The clean page was checked before (same queue): no banner.
    expect((await get(server.url + '/good')).text).not.toContain(BANNER);
  });

  it('maps the errors of a .tsp page to its lines and columns', async () => {
    const server = servers[0]!;
    const body = await poll(server.url + '/page?n=abc', (b) => b.includes(BANNER));
    expect(body).toContain('<p>one x 3</p>');
    expect(body).toContain('page.tsp:3:17</b> Type &#39;string&#39; is not assignable to type &#39;number&#39;.');
    expect(body).toContain('page.tsp:3:49</b> &#39;QUERY.n&#39; is possibly &#39;undefined&#39;.');
  });

  it('follows edits: a fixed page loses its banner, a broken one gets it', async () => {
    const server = servers[0]!;
    const file = path.join(root, 'later.ts');
    expect((await get(server.url + '/later')).text).not.toContain(BANNER);
    await sleep(50);
    fs.writeFileSync(file, 'const x: string = 42;\nprint(`<p>${x}</p>`);\n');
    const broken = await poll(server.url + '/later', (b) => b.includes(BANNER));
    expect(broken).toContain('later.ts:1:7</b> Type &#39;number&#39; is not assignable to type &#39;string&#39;.');
    fs.writeFileSync(file, 'const x: string = "42";\nprint(`<p>${x}</p>`);\n');
    const fixed = await poll(server.url + '/later', (b) => b.includes('<p>42</p>') && !b.includes(BANNER));
    expect(fixed).not.toContain(BANNER);
  });

  it('checks only for browser page loads: fetch and curl do not start the checker', async () => {
    const site = tempSite({ 'bad.ts': 'const n: number = "x";\nprint(`<!doctype html><p>${n}</p>`);\n' });
    const server = await startServer(site);
    servers.push(server);
    const threads = (): number => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
    await get(server.url + '/bad', {}); // compiled
    await sleep(500);
    // The one TypeScript worker still serves the earlier tests' server: stopped here, so that a start shows.
    await releaseTsWorker();
    expect(tsWorkerGeneration()).toBeUndefined();
    const before = threads();
    for (const headers of [{}, { accept: '*/*' }, { 'sec-fetch-dest': 'empty', accept: 'text/html' }]) {
      expect((await get(server.url + '/bad', headers)).text).not.toContain(BANNER);
    }
    await sleep(1000); // well past the debounce
    expect(threads()).toBe(before);
    expect(tsWorkerGeneration()).toBeUndefined();
    const body = await poll(server.url + '/bad', (b) => b.includes(BANNER));
    expect(body).toContain('bad.ts:1:7');
    // The checker started on the thread that already ran the server's timeout watchdog: no thread more.
    expect(tsWorkerGeneration()).toBeDefined();
    expect(threads()).toBe(before);
    // A page's own fetch still gets no banner (it is not a page load).
    expect((await get(server.url + '/bad', { 'sec-fetch-dest': 'empty' })).text).not.toContain(BANNER);
  });

  it('starts nothing before the first request, checks off the request path, and close() stops the worker', async () => {
    const logged: string[] = [];
    const banner = createTypeBanner(root, { access() {}, info() {}, error: (m) => logged.push(m) });
    await sleep(300);
    expect(banner.running()).toBe(false);
    const ctx = { file: path.join(root, 'bad.ts') };
    const result = { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>x</p>' };
    const t0 = performance.now();
    banner.filter(result, ctx);
    expect(performance.now() - t0).toBeLessThan(20); // synchronous and cheap
    expect(result.body).toBe('<p>x</p>'); // nothing known yet
    let shown = '';
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const r = { ...result, body: '<p>x</p>' };
      banner.filter(r, ctx);
      if (r.body.includes(BANNER)) {
        shown = r.body;
        break;
      }
      await sleep(150);
    }
    expect(shown).toContain('bad.ts:2:7');
    expect(banner.running()).toBe(true);
    // Binary and non-string bodies are left alone.
    const binary = { ...result, body: new Uint8Array([1, 2]) };
    banner.filter(binary, ctx);
    expect(binary.body).toBeInstanceOf(Uint8Array);
    await banner.close();
    expect(banner.running()).toBe(false);
    expect(logged).toEqual([]);
  });

  it('close() does not wait for a check under way', async () => {
    await releaseTsWorker();
    const banner = createTypeBanner(root, { access() {}, info() {}, error() {} });
    banner.filter({ status: 200, headers: {}, body: '<p>x</p>' }, { file: path.join(root, 'bad.ts') });
    // The first check builds the site's program (a second or more): it is under way.
    expect(await (async () => {
      const deadline = Date.now() + 5_000;
      while (!banner.running() && Date.now() < deadline) await sleep(20);
      return banner.running();
    })()).toBe(true);
    await sleep(200);
    const t0 = performance.now();
    await banner.close();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(banner.running()).toBe(false);
    expect(tsWorkerGeneration()).toBeUndefined(); // nothing else used it: stopped
  });

  it('an idle checker is stopped, and started again by the next page load', async () => {
    const logged: string[] = [];
    const banner = createTypeBanner(root, { access() {}, info() {}, error: (m) => logged.push(m) }, { idleMs: 300 });
    const ctx = { file: path.join(root, 'bad.ts') };
    const shows = async (): Promise<boolean> => {
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline) {
        const r = { status: 200, headers: {}, body: '<p>x</p>' };
        banner.filter(r, ctx);
        if (r.body.includes(BANNER)) return true;
        await sleep(100);
      }
      return false;
    };
    try {
      expect(await shows()).toBe(true);
      expect(banner.running()).toBe(true);
      // Released 300 ms after its last check (the checks a burst of loads queued meanwhile come first).
      const deadline = Date.now() + 40_000;
      while (banner.running() && Date.now() < deadline) await sleep(50);
      expect(banner.running()).toBe(false);
      banner.filter({ status: 200, headers: {}, body: '<p>x</p>' }, ctx); // the next page load
      const back = Date.now() + 5_000;
      while (!banner.running() && Date.now() < back) await sleep(50);
      expect(banner.running()).toBe(true);
      expect(await shows()).toBe(true);
      expect(logged).toEqual([]);
    } finally {
      await banner.close();
    }
  }, 90_000);
});
