// The demo site's guestbook (www/guestbook.tsp on www/_lib/db.ts, sql.js): signed over HTTP,
// escaped, kept across a hard restart, written atomically.
import { it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT, spawnCli, type CliProcess } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-guestbook-'));
const file = path.join(dir, 'guestbook.sqlite');
let running: CliProcess | undefined;

afterEach(async () => {
  await running?.kill();
  running = undefined;
});

/** The demo site in a process of its own, its database in a temporary folder. */
async function serve(): Promise<CliProcess> {
  running = await spawnCli(['serve', path.join(PROJECT, 'www'), '--port', '0', '--quiet'], { GUESTBOOK_DB: file });
  return running;
}

async function sign(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url + '/guestbook', { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
}

it('signs, lists newest first, escapes, refuses empty fields, and keeps entries across a hard restart', async () => {
  fs.rmSync(file, { force: true });
  let site = await serve();
  const empty = await (await fetch(site.url + '/guestbook')).text();
  expect(empty).toContain('<title>Guestbook · karrigell-ts</title>');
  expect(empty).toContain('Nobody has signed yet');
  expect(fs.existsSync(file), 'reading creates no file').toBe(false);

  const signed = await sign(site.url, { name: 'Ann', message: 'Hello <b>world</b>' });
  expect(signed.status).toBe(302); // post, redirect, get
  expect(signed.headers.get('location')).toBe('guestbook');
  const refused = await sign(site.url, { name: '  ', message: 'no name' });
  expect(refused.status).toBe(200);
  expect(await refused.text()).toContain('Please write your name and a message.');

  let page = await (await fetch(site.url + '/guestbook')).text();
  expect(page).toContain('<p>Hello &lt;b&gt;world&lt;/b&gt;</p>');
  expect(page).not.toContain('no name');
  expect(fs.readFileSync(file).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');

  await site.kill(); // SIGKILL: nothing runs at exit, the file must already hold the entry
  site = await serve();
  page = await (await fetch(site.url + '/guestbook')).text();
  expect(page).toContain('Hello &lt;b&gt;world&lt;/b&gt;');
  expect((await sign(site.url, { name: 'Bob', message: 'second' })).status).toBe(302);
  page = await (await fetch(site.url + '/guestbook')).text();
  expect(page.indexOf('second')).toBeLessThan(page.indexOf('Hello &lt;b&gt;'));
  // Atomic writes: a temporary file renamed over the database, none left behind.
  expect(fs.readdirSync(dir)).toEqual(['guestbook.sqlite']);
}, 60_000);

it('a form on another origin cannot sign (cross-origin protection)', async () => {
  const site = await serve();
  const res = await fetch(site.url + '/guestbook', {
    method: 'POST',
    headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    body: new URLSearchParams({ name: 'Mallory', message: 'forged' }),
    redirect: 'manual',
  });
  expect(res.status).toBe(403);
  expect(await (await fetch(site.url + '/guestbook')).text()).not.toContain('forged');
}, 30_000);
