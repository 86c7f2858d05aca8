/** The command line (SPEC §1): serve, banner, access log, options, one-line errors. */
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempSite, spawnCli, runCli, rawRequest, multipart, sleep, PROJECT, type CliProcess } from './helpers.js';

const site = tempSite({
  'hello.ts': 'print(html`<h1>hello ${QUERY.name ?? "cli"}</h1>`);\n',
  'echo.ts': 'RESPONSE.headers["content-type"] = "text/plain"; print(JSON.stringify(QUERY));\n',
  'folder/readme.txt': 'readme of folder\n',
  'folder/.hidden.txt': 'hidden\n',
});

const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

async function serve(...extra: string[]): Promise<CliProcess> {
  const p = await spawnCli(['serve', site, '--port', '0', ...extra]);
  running.push(p);
  return p;
}

/** Asserts the classic "one clear line on stderr, exit 1, no stack trace". */
function expectOneLineError(r: { code: number | null; stdout: string; stderr: string; timedOut: boolean }, mention?: RegExp): void {
  expect(r.timedOut, 'the CLI should exit by itself').toBe(false);
  expect(r.code).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr: ${JSON.stringify(r.stderr)}`).toHaveLength(1);
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).not.toMatch(/\bat .+:\d+:\d+\)?$/m);
  expect(r.stdout).not.toMatch(/https?:\/\//); // no banner
  if (mention) expect(lines[0]).toMatch(mention);
}

describe('serve', () => {
  it('prints one banner line with the URL, serves pages and logs each request', async () => {
    const p = await serve();
    expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(p.url).port);
    expect(port).toBeGreaterThan(0);
    const bannerLines = p.stdout().split('\n').filter((l) => l.includes(p.url));
    expect(bannerLines).toHaveLength(1);

    const res = await fetch(`${p.url}/hello?name=Ann`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<h1>hello Ann</h1>');
    const line = await p.waitFor(/^.*\bGET\b.*\/hello\b.*$/m);
    expect(line).toMatch(/\b200\b/);
    expect(line).toMatch(/\d+(?:\.\d+)?\s*ms\b/);

    const missing = await fetch(`${p.url}/no-such-page-xyz`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    const line404 = await p.waitFor(/^.*\/no-such-page-xyz.*$/m);
    expect(line404).toMatch(/\bGET\b/);
    expect(line404).toMatch(/\b404\b/);
    expect(line404).toMatch(/\d+(?:\.\d+)?\s*ms\b/);

    const post = await fetch(`${p.url}/echo`, { method: 'POST', body: new URLSearchParams({ a: '1' }) });
    expect(post.status).toBe(200);
    await post.text();
    const linePost = await p.waitFor(/^.*\bPOST\b.*\/echo\b.*$/m);
    expect(linePost).toMatch(/\b200\b/);
  });

  it('--live full: pages are told to reload on every change (in-place is the default)', async () => {
    const live = /<script data-karrigell-live>[\s\S]*\}\)\((\{[\s\S]*?\})\);<\/script>/;
    const asBrowser = { headers: { 'sec-fetch-dest': 'document' } };
    const configOf = async (url: string): Promise<Record<string, unknown>> => JSON.parse(live.exec(await (await fetch(url, asBrowser)).text())![1]!) as Record<string, unknown>;
    const [inPlace, full] = await Promise.all([serve(), serve('--live', 'full')]);
    expect((await configOf(`${inPlace.url}/hello`)).r).toBeUndefined();
    expect((await configOf(`${full.url}/hello`)).r).toBe(1);
  });

  it('--quiet prints the banner but no access log', async () => {
    const p = await serve('--quiet');
    const before = p.stdout();
    for (const u of ['/hello', '/nothing-here']) await (await fetch(p.url + u)).arrayBuffer();
    await sleep(300);
    expect(p.stdout()).toBe(before);
    expect(p.stdout()).not.toMatch(/\bGET\b/);
  });

  it('$PORT is the default port, ROOT defaults to www', async () => {
    const p = await spawnCli(['serve'], { PORT: '0' });
    running.push(p);
    expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(p.url).port)).toBeGreaterThan(0);
    expect(p.stdout()).toMatch(/\bwww\b/);
  });

  it('--host sets the address and the banner shows it', async () => {
    const p = await serve('--host', '127.0.0.1');
    expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(p.url + '/hello')).status).toBe(200);
  });

  it('--listing lists a folder without index, without it the folder is 404', async () => {
    const plain = await serve('--quiet');
    expect((await fetch(plain.url + '/folder/')).status).toBe(404);
    const listing = await serve('--quiet', '--listing');
    const res = await fetch(listing.url + '/folder/');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('readme.txt');
    expect(text).not.toContain('.hidden');
  });

  it('--body-limit and --upload-limit are applied (413)', async () => {
    const p = await serve('--quiet', '--body-limit', '100', '--upload-limit', '1kb');
    const small = await rawRequest(p.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(50) });
    expect(small.status).toBe(200);
    const big = await rawRequest(p.url, '/echo', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(300) });
    expect(big.status).toBe(413);
    // multipart is governed by --upload-limit, not --body-limit
    const okForm = multipart([{ name: 'f', filename: 'a.bin', data: Buffer.alloc(500, 1) }]);
    const ok = await rawRequest(p.url, '/echo', { method: 'POST', headers: { 'content-type': okForm.type }, body: okForm.body });
    expect(ok.status).toBe(200);
    const bigForm = multipart([{ name: 'f', filename: 'a.bin', data: Buffer.alloc(3000, 1) }]);
    const tooBig = await rawRequest(p.url, '/echo', { method: 'POST', headers: { 'content-type': bigForm.type }, body: bigForm.body });
    expect(tooBig.status).toBe(413);
  });
});

describe('--help and --version', () => {
  it('--help prints the usage with serve and its options, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['serve', '--port', '--host', '--listing', '--body-limit', '--upload-limit', '--quiet']) expect(r.stdout).toContain(word);
  });

  it('--version prints the package version, exit 0', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toContain(pkg.version);
  });
});

describe('errors exit 1 with one line on stderr and no stack trace', () => {
  it('a missing ROOT', async () => {
    const missing = path.join(path.dirname(site), 'does-not-exist');
    expectOneLineError(await runCli(['serve', missing, '--port', '0']), /does-not-exist/);
  });

  it('a ROOT that is a file', async () => {
    expectOneLineError(await runCli(['serve', path.join(site, 'hello.ts'), '--port', '0']));
  });

  it('a port in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      expectOneLineError(await runCli(['serve', site, '--port', String(port)]), new RegExp(String(port)));
    } finally {
      blocker.close();
    }
  });

  it('a --host that is not a local address', async () => {
    expectOneLineError(await runCli(['serve', site, '--port', '0', '--host', '203.0.113.7']), /203\.0\.113\.7/);
  });

  it.each([
    [['--port', 'abc'], /port/i],
    [['--port', '70000'], /port/i],
    [['--port', '-1'], /port|option/i],
    [['--body-limit', '12xb'], /body-limit/],
    [['--upload-limit', 'lots'], /upload-limit/],
    [['--bogus'], /bogus/],
    [['--live', 'sometimes'], /--live.*in-place.*full/],
  ])('a bad option value %j', async (args, mention) => {
    const full = ['serve', site, ...(args[0] === '--port' ? args : ['--port', '0', ...args])];
    expectOneLineError(await runCli(full), mention);
  });
});
