/**
 * Module lifecycle (SPEC §4): `import.meta.hot?.dispose(fn)` in a site module.
 * In development fn runs before an edit replaces the module: a module that
 * opens a handle (a TCP server, a file) on load and closes it in dispose keeps
 * one open over 20 edits. On close() and on SIGTERM every loaded module's
 * dispose functions run, in development and in production.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { testSite } from '../dist/testing.js';
import { outside, sleep, spawnCli, tempSite } from './helpers.js';

/** A module that opens a real TCP server and a file on load, counted in a global, closed by dispose. */
const dbModule = (version: number, withDispose = true): string => `
import net from 'node:net';
import fs from 'node:fs';
const g = globalThis as any;
g.__ktsOpen ??= 0;
const server = net.createServer().listen(0, '127.0.0.1');
(g.__ktsServers ??= []).push(server);
const fd = fs.openSync(${JSON.stringify('/dev/null')}, 'r');
g.__ktsOpen++;
export const version = ${version};
${
  withDispose
    ? `import.meta.hot?.dispose(async () => {
  fs.closeSync(fd);
  await new Promise((r) => server.close(r));
  g.__ktsOpen--;
});`
    : ''
}
`;

const PAGE = "import { version } from './_lib/db.ts';\nprint(`v${version} open=${(globalThis as any).__ktsOpen}`);\n";

/** Open TCP server handles of this process. */
const tcpServers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

/** Edits the module 20 times; what the page saw after each edit (the count when the new version was evaluated), and what is open at the end. */
async function editTwenty(withDispose: boolean): Promise<{ seen: number[]; open: number; tcp: number }> {
  (globalThis as { __ktsOpen?: number }).__ktsOpen = 0;
  const root = tempSite({ '_lib/db.ts': dbModule(0, withDispose), 'page.ts': PAGE });
  const site = await testSite(root, { production: false });
  const tcpBefore = tcpServers();
  try {
    expect((await site.get('/page')).text).toMatch(/^v0 open=1/);
    const seen: number[] = [];
    for (let v = 1; v <= 20; v++) {
      fs.writeFileSync(path.join(root, '_lib', 'db.ts'), dbModule(v, withDispose));
      const deadline = Date.now() + 10_000;
      let text = '';
      while (Date.now() < deadline) {
        text = (await site.get('/page')).text;
        if (text.startsWith(`v${v} `)) break;
        await sleep(25);
      }
      expect(text).toMatch(new RegExp(`^v${v} `));
      seen.push(Number(/open=(\d+)/.exec(text)![1]));
    }
    await sleep(50);
    return { seen, open: (globalThis as { __ktsOpen?: number }).__ktsOpen!, tcp: tcpServers() - tcpBefore };
  } finally {
    await site.close();
    // What the modules without dispose left open.
    for (const server of ((globalThis as { __ktsServers?: import('node:net').Server[] }).__ktsServers ?? []).splice(0)) server.close();
  }
}

describe('import.meta.hot.dispose in development', () => {
  it('a module that opens a TCP server and a file keeps one of each open over 20 edits', async () => {
    const { seen, open, tcp } = await editTwenty(true);
    // Each old version was disposed of before its replacement was evaluated.
    expect(seen).toEqual(Array(20).fill(1));
    expect(open).toBe(1);
    expect(tcp).toBeLessThanOrEqual(1);
  }, 120_000);

  it('(the same module without dispose leaks one per edit: what the test above would see without it)', async () => {
    const { seen, open } = await editTwenty(false);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(open).toBe(21);
  }, 120_000);

  it('close() runs the dispose functions of the modules still loaded', async () => {
    (globalThis as { __ktsOpen?: number }).__ktsOpen = 0;
    const root = tempSite({ '_lib/db.ts': dbModule(0), 'page.ts': PAGE });
    const site = await testSite(root, { production: false });
    expect((await site.get('/page')).text).toMatch(/open=1/);
    await site.close();
    expect((globalThis as { __ktsOpen?: number }).__ktsOpen).toBe(0);
  });

  it('a page’s top level (run on every request) cannot register a dispose function: a clear error', async () => {
    const root = tempSite({ 'page.ts': 'import.meta.hot?.dispose(() => {});\nprint("x");\n' });
    const site = await testSite(root);
    try {
      const r = await site.get('/page', { headers: { accept: 'text/html' } });
      expect(r.status).toBe(500);
      expect(r.text).toContain('import.meta.hot.dispose() belongs in a module');
    } finally {
      await site.close();
    }
  });
});

describe('a graceful stop runs every dispose function', () => {
  it('close() in production', async () => {
    (globalThis as { __ktsOpen?: number }).__ktsOpen = 0;
    const root = tempSite({ '_lib/db.ts': dbModule(0), 'page.ts': PAGE });
    const site = await testSite(root, { production: true });
    expect((await site.get('/page')).text).toMatch(/open=1/);
    await site.close();
    expect((globalThis as { __ktsOpen?: number }).__ktsOpen).toBe(0);
  });

  for (const production of [false, true]) {
    it(`SIGTERM (${production ? 'production' : 'development'}): the dispose functions run, exit 0`, async () => {
      const root = tempSite({
        '_lib/db.ts': `import fs from 'node:fs';\nimport.meta.hot?.dispose(() => fs.writeFileSync(${JSON.stringify('MARK')}, 'disposed'));\nexport const ok = 1;\n`,
        'page.ts': "import { ok } from './_lib/db.ts';\nprint('ok', ok);\n",
      });
      const mark = path.join(outside(root), 'disposed.txt');
      fs.writeFileSync(path.join(root, '_lib', 'db.ts'), fs.readFileSync(path.join(root, '_lib', 'db.ts'), 'utf8').replace('"MARK"', JSON.stringify(mark)));
      const cli = await spawnCli(['serve', root, '--port', '0', '--quiet', ...(production ? ['--production'] : [])]);
      try {
        expect(await (await fetch(cli.url + '/page')).text()).toBe('ok 1\n');
        const exited = new Promise<number | null>((resolve) => cli.child.once('exit', (code) => resolve(code)));
        cli.child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(fs.readFileSync(mark, 'utf8')).toBe('disposed');
      } finally {
        await cli.kill();
      }
    });
  }
});
