/**
 * Live editing over HTTP (SPEC §7): every way editors save, precise
 * invalidation, state that survives an edit, and the live-reload event stream.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT, tempSite, sleep } from './helpers.js';
import type { ClientConfig } from '../src/live/reload-client.js';
import { expectServerErrors } from './setup.js';
import { createModuleRegistry } from '../dist/script/modules.js';

expectServerErrors(/(Compile error|Error) in GET/);

interface Server {
  url: string;
  registry: { unitOf(file: string): unknown; compiles: number; size: number };
  close(graceMs?: number): Promise<void>;
}

async function start(root: string, options: Record<string, unknown> = {}): Promise<Server> {
  const mod = (await import(path.join(PROJECT, 'dist', 'index.js'))) as { createServer(o: Record<string, unknown>): Promise<Server> };
  return mod.createServer({ root, port: 0, host: '127.0.0.1', quiet: true, ...options });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders; reused: boolean }> {
  return new Promise((resolve, reject) => {
    // As a browser loading a page asks (the live-reload script is for those only).
    const req = http.get(url, { agent, headers: { accept: BROWSER_ACCEPT, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers, reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Polls `fn` until it returns a truthy value (or fails after `ms`). */
async function until<T>(fn: () => Promise<T> | T, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await sleep(5);
  }
}

/** The page's text without the live-reload script. */
const content = (text: string): string => text.replace(/<script data-karrigell-live>[\s\S]*?<\/script>/, '').trim();

async function showsUp(url: string, expected: string, ms = 5000): Promise<void> {
  await until(async () => content((await get(url)).text) === expected, `${url} to show ${JSON.stringify(expected)}`, ms);
}

/** Keeps asking for `ms`: the answer must stay `expected` (never an older version). */
async function staysAt(url: string, expected: string, ms = 250): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    expect(content((await get(url)).text)).toBe(expected);
    await sleep(10);
  }
}

type LiveConfig = ClientConfig;

function configOf(html: string): LiveConfig {
  const m = /<script data-karrigell-live>[\s\S]*\}\)\((\{[\s\S]*?\})\);<\/script>/.exec(html);
  if (!m) throw new Error(`no live-reload script in ${html.slice(0, 200)}`);
  return JSON.parse(m[1]!) as LiveConfig;
}

interface Stream {
  events: { event: string; data: string; id?: string }[];
  ended: boolean;
  wait(pred: (e: { event: string; data: string }) => boolean, ms?: number): Promise<{ event: string; data: string }>;
  close(): void;
}

/** Opens the event stream a page would open. */
function openStream(base: string, cfg: LiveConfig, extra = ''): Promise<Stream> {
  let q = `b=${cfg.b}&s=${cfg.s}&p=${encodeURIComponent(cfg.p)}`;
  for (const d of cfg.d) q += `&d=${encodeURIComponent(d)}`;
  if (cfg.x) q += '&x=1';
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${cfg.e}?${q}${extra}`, { agent: false }, (res) => {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let buf = '';
      const stream: Stream = {
        events: [],
        ended: false,
        wait: (pred, ms = 5000) =>
          until(() => stream.events.find(pred), 'an event', ms),
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev: { event: string; data: string; id?: string } = { event: 'message', data: '' };
          let any = false;
          for (const line of block.split('\n')) {
            const [k, ...rest] = line.split(':');
            const v = rest.join(':').replace(/^ /, '');
            if (k === 'event') (ev.event = v), (any = true);
            else if (k === 'data') (ev.data = v), (any = true);
            else if (k === 'id') ev.id = v;
          }
          if (any) stream.events.push(ev);
        }
      });
      res.on('end', () => (stream.ended = true));
      res.on('close', () => (stream.ended = true));
      resolve(stream);
    });
    req.on('error', reject);
  });
}

/** Writes like an editor that saves to a temp file and renames it over the target. */
function renameOver(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

describe('live editing over HTTP', () => {
  let root: string;
  let server: Server;
  const f = (rel: string): string => path.join(root, rel);

  beforeAll(async () => {
    root = tempSite({
      'inplace.ts': 'print("v0");',
      'atomic.ts': 'print("v0");',
      'recreate.ts': 'print("v0");',
      'burst.ts': 'print("v0");',
      'doomed.ts': 'print("here");',
      'a.ts': 'import { ha } from "./_lib/ha.ts";\nprint(`a:${ha}`);',
      'b.ts': 'import { hb } from "./_lib/hb.ts";\nprint(`b:${hb}`);',
      '_lib/ha.ts': 'export const ha = 1;',
      '_lib/hb.ts': 'export const hb = 1;',
      '_lib/state.ts': 'let n = 0;\nexport const next = (): number => ++n;',
      'state.ts': 'import { next } from "./_lib/state.ts";\nprint(`one:${next()}`);',
      'visits.ts': 'const so = Session();\nso.n = ((so.n as number) ?? 0) + 1;\nprint(`first:${so.n}`);',
      'style.css': 'h1 { color: black }',
      'styled.ts': 'print(`<html><head><link rel="stylesheet" href="/style.css"></head><body><h1>styled</h1></body></html>`);',
      'broken.ts': 'print("fine");',
      'needs.ts': 'import { x } from "./_lib/later.ts";\nprint(`needs:${x}`);',
      'inc.ts': 'await Include("_parts/part.ts");\nprint("end");',
      '_parts/part.ts': 'print("part1");',
      'hello.ts': 'print(_("Hello"));',
      '_translations/fr.json': '{"Hello": "Bonjour"}',
    });
    server = await start(root);
  });
  afterAll(async () => {
    await server?.close(500);
    agent.destroy();
  });

  it('HTML responses carry the live-reload script, before </body> or appended', async () => {
    const styled = await get(server.url + '/styled');
    expect(styled.text).toMatch(/<h1>styled<\/h1><script data-karrigell-live>[\s\S]*<\/script><\/body><\/html>\n$/);
    const plain = await get(server.url + '/inplace');
    expect(plain.text.startsWith('v0\n<script data-karrigell-live>')).toBe(true);
    expect(configOf(plain.text)).toMatchObject({ e: '/__karrigell/events', p: 'inplace.ts', d: [] });
    expect(Number(plain.headers['content-length'])).toBe(Buffer.byteLength(plain.text));
    // Only for browsers loading a page: not for a page's fetch(), curl or API clients.
    expect((await get(server.url + '/inplace', { 'sec-fetch-dest': 'empty', accept: '*/*' })).text).toBe('v0\n');
    expect((await get(server.url + '/inplace', { accept: '*/*' })).text).toBe('v0\n');
    expect((await get(server.url + '/inplace', { 'sec-fetch-dest': 'document', accept: '*/*' })).text).toContain('data-karrigell-live');
    expect((await get(server.url + '/inplace', { 'sec-fetch-dest': 'iframe' })).text).toContain('data-karrigell-live');
  });

  it('an in-place write changes the next response', async () => {
    await showsUp(server.url + '/inplace', 'v0');
    fs.writeFileSync(f('inplace.ts'), 'print("v1");');
    await showsUp(server.url + '/inplace', 'v1');
  });

  it('an atomic rename-over save changes the next response', async () => {
    await showsUp(server.url + '/atomic', 'v0');
    for (let i = 1; i <= 3; i++) {
      renameOver(f('atomic.ts'), `print("v${i}");`);
      await showsUp(server.url + '/atomic', `v${i}`);
    }
  });

  it('delete-then-recreate changes the next response', async () => {
    await showsUp(server.url + '/recreate', 'v0');
    fs.unlinkSync(f('recreate.ts'));
    await sleep(3);
    fs.writeFileSync(f('recreate.ts'), 'print("v1");');
    await showsUp(server.url + '/recreate', 'v1');
    await staysAt(server.url + '/recreate', 'v1');
  });

  it('a burst of saves a few ms apart: the last content wins, never a stale one', async () => {
    // Many rounds: some rename-over sequences make chokidar lose track of a file for good.
    for (let round = 1; round <= 12; round++) {
      await get(server.url + '/burst');
      for (let i = 0; i < 6; i++) {
        // Alternate the save styles; requests in the middle of the burst compile intermediate versions.
        if (i % 2) renameOver(f('burst.ts'), `print("r${round}-${i}");`);
        else fs.writeFileSync(f('burst.ts'), `print("r${round}-${i}");`);
        if (i === 2) await get(server.url + '/burst');
        await sleep(1);
      }
      await showsUp(server.url + '/burst', `r${round}-5`);
      await staysAt(server.url + '/burst', `r${round}-5`, 100);
    }
  });

  it('a new file answers at once, a deleted one 404s', async () => {
    expect((await get(server.url + '/fresh')).status).toBe(404);
    fs.writeFileSync(f('fresh.ts'), 'print("new");');
    await showsUp(server.url + '/fresh', 'new', 2000);
    expect((await get(server.url + '/doomed')).status).toBe(200);
    fs.unlinkSync(f('doomed.ts'));
    await until(async () => (await get(server.url + '/doomed')).status === 404, '/doomed to 404', 2000);
  });

  it('editing a helper recompiles it alone, links the pages that import it again (their code kept), and leaves the others', async () => {
    await showsUp(server.url + '/a', 'a:1');
    await showsUp(server.url + '/b', 'b:1');
    const unitA = server.registry.unitOf(f('a.ts'));
    const unitB = server.registry.unitOf(f('b.ts'));
    const unitHb = server.registry.unitOf(f('_lib/hb.ts'));
    expect(unitA && unitB && unitHb).toBeTruthy();
    const before = server.registry.compiles;
    fs.writeFileSync(f('_lib/ha.ts'), 'export const ha = 2;');
    await showsUp(server.url + '/a', 'a:2');
    await showsUp(server.url + '/b', 'b:1');
    expect(server.registry.unitOf(f('b.ts'))).toBe(unitB);
    expect(server.registry.unitOf(f('_lib/hb.ts'))).toBe(unitHb);
    // a.ts compiles to the same code (its imports are external): linked again with the new _lib/ha.ts, not compiled.
    expect(server.registry.unitOf(f('a.ts'))).toBe(unitA);
    expect(server.registry.unitOf(f('_lib/ha.ts'))).toBeTruthy();
    // _lib/ha.ts alone, once (more only if a request compiled during the save).
    expect(server.registry.compiles - before).toBeGreaterThanOrEqual(1);
  });

  it('a helper that comes or goes recompiles what imports it (the import may resolve elsewhere)', async () => {
    await showsUp(server.url + '/a', 'a:2');
    const unitA = server.registry.unitOf(f('a.ts'));
    expect(unitA).toBeTruthy();
    fs.unlinkSync(f('_lib/ha.ts'));
    await until(async () => (await get(server.url + '/a')).status === 500, '/a to fail without its helper', 5000);
    fs.writeFileSync(f('_lib/ha.ts'), 'export const ha = 7;');
    await showsUp(server.url + '/a', 'a:7');
    expect(server.registry.unitOf(f('a.ts'))).not.toBe(unitA);
    fs.writeFileSync(f('_lib/ha.ts'), 'export const ha = 2;');
    await showsUp(server.url + '/a', 'a:2');
  });

  it('module state of files that did not change survives an edit', async () => {
    await showsUp(server.url + '/state', 'one:1');
    await showsUp(server.url + '/state', 'one:2');
    fs.writeFileSync(f('state.ts'), 'import { next } from "./_lib/state.ts";\nprint(`two:${next()}`);');
    const n = await until(async () => /^two:(\d+)$/.exec(content((await get(server.url + '/state')).text))?.[1], 'the new version');
    expect(Number(n)).toBeGreaterThanOrEqual(3);
  });

  it('sessions and open connections survive an edit', async () => {
    const first = await get(server.url + '/visits');
    expect(content(first.text)).toBe('first:1');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(content((await get(server.url + '/visits', { cookie })).text)).toBe('first:2');
    fs.writeFileSync(f('visits.ts'), 'const so = Session();\nso.n = ((so.n as number) ?? 0) + 1;\nprint(`second:${so.n}`);');
    const after = await until(async () => {
      const r = await get(server.url + '/visits', { cookie });
      return /^second:(\d+)$/.test(content(r.text)) ? r : undefined;
    }, 'the new version');
    expect(Number(/^second:(\d+)$/.exec(content(after.text))![1])).toBeGreaterThanOrEqual(3);
    expect(after.reused).toBe(true); // the keep-alive connection was not dropped
    expect(after.headers['set-cookie']).toBeUndefined(); // same session, no new cookie
  });

  it('a broken script shows the error page (with the script), and comes back on the next good save', async () => {
    await showsUp(server.url + '/broken', 'fine');
    fs.writeFileSync(f('broken.ts'), 'print("oops";');
    const failed = await until(async () => {
      const r = await get(server.url + '/broken');
      return r.status === 500 ? r : undefined;
    }, 'the error page');
    expect(failed.text).toContain('broken.ts');
    const cfg = configOf(failed.text);
    expect(cfg).toMatchObject({ p: 'broken.ts', x: 1 });
    const stream = await openStream(server.url, cfg);
    fs.writeFileSync(f('broken.ts'), 'print("fixed");');
    await stream.wait((e) => e.event === 'reload');
    await showsUp(server.url + '/broken', 'fixed');
    stream.close();
  });

  it('a page failing on a missing import reloads when the file appears', async () => {
    const failed = await get(server.url + '/needs');
    expect(failed.status).toBe(500);
    const stream = await openStream(server.url, configOf(failed.text));
    fs.writeFileSync(f('_lib/later.ts'), 'export const x = "ok";');
    await stream.wait((e) => e.event === 'reload');
    await showsUp(server.url + '/needs', 'needs:ok');
    stream.close();
  });

  it('the event stream tells a page when a file it depends on changes, not when another does', async () => {
    await showsUp(server.url + '/a', 'a:2');
    const cfg = configOf((await get(server.url + '/a')).text);
    const stream = await openStream(server.url, cfg);
    fs.writeFileSync(f('_lib/hb.ts'), 'export const hb = 2;'); // b's helper
    fs.writeFileSync(f('inplace.ts'), 'print("v2");'); // another page
    await showsUp(server.url + '/b', 'b:2');
    await sleep(150);
    expect(stream.events.filter((e) => e.event === 'reload')).toEqual([]);
    expect(stream.ended).toBe(false);
    fs.writeFileSync(f('_lib/ha.ts'), 'export const ha = 3;');
    const ev = await stream.wait((e) => e.event === 'reload');
    expect(JSON.parse(ev.data)).toEqual({ file: '_lib/ha.ts' });
    stream.close();
  });

  it('a change made before the page connected is not missed', async () => {
    const cfg = configOf((await get(server.url + '/a')).text);
    fs.writeFileSync(f('_lib/ha.ts'), 'export const ha = 4;');
    await showsUp(server.url + '/a', 'a:4');
    const stream = await openStream(server.url, cfg);
    await stream.wait((e) => e.event === 'reload');
    stream.close();
    // A page of another run of the server reloads too.
    const old = await openStream(server.url, { ...cfg, b: 'another-boot', s: 0 });
    await old.wait((e) => e.event === 'reload');
    old.close();
  });

  it('a changed stylesheet is announced for an in-place swap', async () => {
    const cfg = configOf((await get(server.url + '/styled')).text);
    const stream = await openStream(server.url, cfg);
    fs.writeFileSync(f('style.css'), 'h1 { color: red }');
    const ev = await stream.wait((e) => e.event === 'css');
    expect(JSON.parse(ev.data)).toEqual({ url: '/style.css' });
    expect(stream.events.some((e) => e.event === 'reload')).toBe(false);
    stream.close();
  });

  it('Includes are dependencies of the including page', async () => {
    const first = await get(server.url + '/inc');
    expect(content(first.text)).toBe('part1\nend');
    const cfg = configOf(first.text);
    expect(cfg.d).toContain('_parts/part.ts');
    const stream = await openStream(server.url, cfg);
    fs.writeFileSync(f('_parts/part.ts'), 'print("part2");');
    await stream.wait((e) => e.event === 'reload');
    await showsUp(server.url + '/inc', 'part2\nend');
    stream.close();
  });

  it('translation files are dependencies of the pages that used them', async () => {
    const fr = { 'accept-language': 'fr' };
    const first = await get(server.url + '/hello', fr);
    expect(content(first.text)).toBe('Bonjour');
    const cfg = configOf(first.text);
    expect(cfg.d).toContain('_translations/fr.json');
    const stream = await openStream(server.url, cfg);
    fs.writeFileSync(f('_translations/fr.json'), '{"Hello": "Salut"}');
    await stream.wait((e) => e.event === 'reload');
    await until(async () => content((await get(server.url + '/hello', fr)).text) === 'Salut', 'the new translation');
    stream.close();
  });

  it('the watcher survives odd events (folders, binary files, empty files)', async () => {
    fs.mkdirSync(f('deep/er'), { recursive: true });
    fs.writeFileSync(f('deep/er/page.ts'), 'print("deep");');
    await showsUp(server.url + '/deep/er/page', 'deep');
    fs.writeFileSync(f('deep/blob.bin'), Buffer.alloc(3 * 1024 * 1024));
    fs.writeFileSync(f('deep/empty.ts'), '');
    fs.symlinkSync('nowhere', f('deep/.#dangling.ts')); // an editor's lock file
    try {
      execFileSync('mkfifo', [f('deep/pipe')]); // must never be read (it would block)
    } catch {
      /* no mkfifo here */
    }
    fs.rmSync(f('deep'), { recursive: true });
    await until(async () => (await get(server.url + '/deep/er/page')).status === 404, 'the folder to be gone');
    await showsUp(server.url + '/a', 'a:4');
  });

  it('modules imported from outside ROOT are watched too', async () => {
    const shared = path.join(path.dirname(root), 'shared', 'lib.ts');
    fs.mkdirSync(path.dirname(shared), { recursive: true });
    fs.writeFileSync(shared, 'export const where = "outside1";');
    fs.writeFileSync(f('far.ts'), 'import { where } from "../shared/lib.ts";\nprint(where);');
    await showsUp(server.url + '/far', 'outside1');
    const stream = await openStream(server.url, configOf((await get(server.url + '/far')).text));
    await sleep(100); // chokidar adds the new path asynchronously
    fs.writeFileSync(shared, 'export const where = "outside2";');
    await stream.wait((e) => e.event === 'reload');
    await showsUp(server.url + '/far', 'outside2');
    stream.close();
  });

  it('a tsconfig.json change recompiles everything and reloads every page', async () => {
    const stream = await openStream(server.url, configOf((await get(server.url + '/b')).text));
    const unitB = server.registry.unitOf(f('b.ts'));
    fs.writeFileSync(f('tsconfig.json'), '{ "compilerOptions": { "strict": true } }');
    await stream.wait((e) => e.event === 'reload');
    expect(server.registry.unitOf(f('b.ts'))).not.toBe(unitB);
    await showsUp(server.url + '/b', 'b:2');
    stream.close();
  });

  it('unknown reserved paths 404; the stream answers GET only', async () => {
    expect((await get(server.url + '/__karrigell/nope')).status).toBe(404);
    const post = await new Promise<number>((resolve, reject) => {
      const req = http.request(server.url + '/__karrigell/events', { method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(post).toBe(405);
  });
});

describe('live reload and the server lifecycle', () => {
  it('open event streams do not keep close() waiting', async () => {
    const root = tempSite({ 'index.ts': 'print("<body>x</body>");' });
    const server = await start(root);
    const cfg = configOf((await get(server.url + '/')).text);
    const streams = await Promise.all([openStream(server.url, cfg), openStream(server.url, cfg)]);
    const t0 = Date.now();
    await server.close(20_000);
    expect(Date.now() - t0).toBeLessThan(2000);
    await until(() => streams.every((s) => s.ended), 'the streams to end', 1000);
  });

  it('--production: no script, no endpoint, no watcher', async () => {
    const root = tempSite({ 'index.ts': 'print("<body>prod</body>");' });
    const server = await start(root, { production: true });
    try {
      const page = await get(server.url + '/');
      expect(page.text).toBe('<body>prod</body>\n');
      expect((await get(server.url + '/__karrigell/events')).status).toBe(404);
      fs.writeFileSync(path.join(root, 'index.ts'), 'print("<body>edited</body>");');
      await sleep(200);
      expect((await get(server.url + '/')).text).toBe('<body>prod</body>\n');
    } finally {
      await server.close(500);
    }
  });
});

describe('updates in place over HTTP (--live in-place)', () => {
  let root: string;
  let server: Server;
  beforeAll(async () => {
    root = tempSite({
      'page.ts': 'print(`<html><head><title>t1</title><style>h1{color:red}</style><link rel="stylesheet" href="/s.css"></head><body><h1>one</h1><script>var a = 1;</script></body></html>`);',
      'form.ts': 'print(`<body>answered ${REQUEST_HANDLER.method}</body>`);',
    });
    server = await start(root);
  });
  afterAll(async () => {
    await server?.close(500);
  });

  it('the update module is served once per content: immutable, JavaScript, GET and HEAD only', async () => {
    const html = (await get(server.url + '/page')).text;
    const url = /import\('(\/__karrigell\/update-[0-9a-f]+\.js)'\)/.exec(html)?.[1];
    expect(url).toBeDefined();
    const res = await fetch(server.url + url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const code = await res.text();
    // idiomorph is bundled in, minified, and the module exports update().
    expect(code).toContain('export{');
    expect(code.length).toBeLessThan(40_000);
    expect((await fetch(server.url + url, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(server.url + url, { method: 'POST' })).status).toBe(405);
    expect((await fetch(server.url + '/__karrigell/update-000000000000.js')).status).toBe(404);
  });

  it("the live script's own fetch of the page gets the script (its configuration); other fetches do not", async () => {
    const own = await get(server.url + '/page', { accept: '*/*', 'sec-fetch-dest': 'empty', 'x-karrigell-live': '1' });
    expect(configOf(own.text).p).toBe('page.ts');
    const other = await get(server.url + '/page', { accept: '*/*', 'sec-fetch-dest': 'empty' });
    expect(other.text).not.toContain('data-karrigell-live');
  });

  it('a page that answered a POST says so (never fetched again by that method)', async () => {
    expect(configOf((await get(server.url + '/form')).text).f).toBeUndefined();
    const posted = await fetch(server.url + '/form', { method: 'POST', headers: { 'sec-fetch-dest': 'document', 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    const text = await posted.text();
    expect(text).toContain('answered POST');
    expect(configOf(text).f).toBe(1);
  });

  it('the asset hash changes with a script or a head asset, not with text, the title or style text', async () => {
    const hashOf = async (): Promise<string> => configOf((await get(server.url + '/page')).text).h;
    const base = 'print(`<html><head><title>t1</title><style>h1{color:red}</style><link rel="stylesheet" href="/s.css"></head><body><h1>one</h1><script>var a = 1;</script></body></html>`);';
    const h0 = await hashOf();
    const variant = async (from: string, to: string): Promise<string> => {
      const text = base.replace(from, to);
      expect(text).not.toBe(base);
      fs.writeFileSync(path.join(root, 'page.ts'), text);
      await until(async () => (await get(server.url + '/page')).text.includes(to), `the edit ${to}`);
      return hashOf();
    };
    expect(await variant('<h1>one</h1>', '<h1>two</h1><p>more</p>')).toBe(h0);
    expect(await variant('<title>t1</title>', '<title>t2</title>')).toBe(h0);
    expect(await variant('h1{color:red}', 'h1{color:blue}')).toBe(h0);
    expect(await variant('var a = 1;', 'var a = 2;')).not.toBe(h0);
    expect(await variant('/s.css', '/other.css')).not.toBe(h0);
    expect(await variant('<h1>one</h1>', '<h1>one</h1><script src="/x.js"></script>')).not.toBe(h0);
  });
});

describe('compiled code kept across an edit of what it imports (registry)', () => {
  it('a compile still running when its own file changed is never kept: it may hold the old code', async () => {
    const root = tempSite({ 'a.ts': 'import { m } from "./_lib/m.ts";\nprint(`first-version ${m}`);', '_lib/m.ts': 'export const m = 1;' });
    const a = path.join(root, 'a.ts');
    const m = path.join(root, '_lib', 'm.ts');
    const registry = createModuleRegistry(root);
    const inFlight = registry.loadPage(a); // compiles a.ts as it is (the first version)…
    registry.invalidate(a); // …while a.ts is reported changed
    await inFlight;
    fs.writeFileSync(a, 'import { m } from "./_lib/m.ts";\nprint(`second-version ${m}`);');
    fs.writeFileSync(m, 'export const m = 2;');
    registry.invalidate(m, true); // then the module it imports is edited
    const page = await registry.loadPage(a);
    // Markers no temp folder's random name can hold (the code starts with a comment naming the file).
    expect(page.unit.code).toContain('second-version');
    expect(page.unit.code).not.toContain('first-version');
  });

  it('code compiled after the last change of its file is kept: the edit of a module compiles that module alone', async () => {
    const root = tempSite({ 'a.ts': 'import { m } from "./_lib/m.ts";\nprint(`a ${m}`);', '_lib/m.ts': 'export const m = 1;' });
    const a = path.join(root, 'a.ts');
    const m = path.join(root, '_lib', 'm.ts');
    const registry = createModuleRegistry(root);
    const first = await registry.loadPage(a);
    const before = registry.compiles;
    fs.writeFileSync(m, 'export const m = 2;');
    registry.invalidate(m, true);
    const second = await registry.loadPage(a);
    expect(second.unit).toBe(first.unit);
    expect(registry.compiles - before).toBe(1);
    // A file that came or went: what imports it compiles again (its import may resolve elsewhere).
    registry.invalidate(m);
    expect((await registry.loadPage(a)).unit).not.toBe(first.unit);
  });
});
