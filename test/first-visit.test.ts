/**
 * Development: the first compile of a page also compiles the pages beside it
 * that are not compiled yet, in one esbuild build (modules.ts compileAhead),
 * so that the first visits of a folder's pages cost one build, not one each.
 * What is compiled ahead never outlives an edit of its file.
 */
import { describe, it, expect, afterAll, vi } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from '../dist/index.js';
import { buildCount, releaseCompiler } from '../dist/script/compile.js';
import { createModuleRegistry } from '../dist/script/modules.js';
import { tempSite, sleep } from './helpers.js';
import { expectServerErrors } from './setup.js';

expectServerErrors(/Compile error in GET \/a\/p01 at a\/p01\.ts:1:21: Could not resolve "\.\.\/_lib\/shared\.ts"/);

/** 40 pages a folder in two folders (.ts importing a module, .tsp, .tsx), and a private module. */
function site(): Record<string, string> {
  const files: Record<string, string> = { '_lib/shared.ts': 'export const tag = "shared";\n' };
  for (const dir of ['a', 'b'])
    for (let i = 0; i < 40; i++) {
      const kind = i % 4 === 3 ? 'tsp' : i % 4 === 2 ? 'tsx' : 'ts';
      files[`${dir}/p${String(i).padStart(2, '0')}.${kind}`] =
        kind === 'ts'
          ? `import { tag } from "../_lib/shared.ts";\nprint(\`<p>${dir}${i} \${tag}</p>\`);\n`
          : kind === 'tsp'
            ? `<p>${dir}${i} <%= 2 * 3 %></p>\n`
            : `const n: number = 6;\n<p>${dir}${i} {n}</p>;\n`;
    }
  return files;
}

const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  await releaseCompiler();
});

describe('first visits in development', () => {
  it('the pages of a folder visited one after the other cost a few builds, not one each, and each answers its own page', async () => {
    const root = tempSite(site());
    const dev = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true });
    servers.push(dev);
    const before = buildCount();
    for (const dir of ['a', 'b'])
      for (let i = 0; i < 40; i++) {
        const body = await (await fetch(`${dev.url}/${dir}/p${String(i).padStart(2, '0')}`)).text();
        expect(body).toContain(`<p>${dir}${i} ${i % 4 === 3 || i % 4 === 2 ? '6' : 'shared'}</p>`);
      }
    // Per folder: the first page alone, its 39 neighbours in one build; the module once.
    expect(buildCount() - before).toBeLessThanOrEqual(6);
  });

  it('a page compiled ahead and then edited answers its new content', async () => {
    const root = tempSite(site());
    const dev = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true });
    servers.push(dev);
    expect(await (await fetch(dev.url + '/a/p00')).text()).toContain('<p>a0 shared</p>');
    // p01 comes from the build started by p00's visit: the batch is done once it answers.
    expect(await (await fetch(dev.url + '/a/p01')).text()).toContain('<p>a1 shared</p>');
    // p05 is compiled ahead and not visited yet: edit it (the watcher invalidates it).
    await sleep(200);
    fs.writeFileSync(path.join(root, 'a/p05.ts'), 'print("<p>a5 edited</p>");\n');
    let body = '';
    for (let i = 0; i < 50 && !body.includes('edited'); i++) {
      await sleep(100);
      body = await (await fetch(dev.url + '/a/p05')).text();
    }
    expect(body).toContain('<p>a5 edited</p>');
  });

  it('a page edited while the build that compiles it ahead runs is compiled again', async () => {
    const root = tempSite(site());
    const p09 = path.join(root, 'a/p09.ts');
    const registry = createModuleRegistry(root, undefined, undefined, true);
    // The race, made certain: right after the batch (started by p00's visit) has read p09,
    // p09 is edited and the watcher invalidates it; the batch then finishes with the old p09.
    const read = fs.readFileSync;
    let edited = false;
    const spy = vi.spyOn(fs, 'readFileSync').mockImplementation(((...args: Parameters<typeof fs.readFileSync>) => {
      const text = read(...args);
      if (args[0] === p09 && !edited) {
        edited = true;
        fs.writeFileSync(p09, 'print("<p>a9 edited</p>");\n');
        registry.invalidate(p09);
      }
      return text;
    }) as typeof fs.readFileSync);
    try {
      await registry.loadPage(path.join(root, 'a/p00.ts'));
      const printed: string[] = [];
      const scope = { print: (s: string) => void printed.push(s), QUERY: {} };
      for (const name of ['p09', 'p12']) await (await registry.loadPage(path.join(root, `a/${name}.ts`))).run(scope);
      expect(edited).toBe(true);
      expect(printed).toEqual(['<p>a9 edited</p>', '<p>a12 shared</p>']);
    } finally {
      spy.mockRestore();
    }
  });

  it('an edit of a module imported by many pages compiles the module alone: its importers are linked again', async () => {
    const root = tempSite(site());
    const dev = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true });
    servers.push(dev);
    const tsPages = Array.from({ length: 40 }, (_, i) => i)
      .filter((i) => i % 4 < 2)
      .flatMap((i) => ['a', 'b'].map((dir) => ({ url: `/${dir}/p${String(i).padStart(2, '0')}`, text: `<p>${dir}${i}` })));
    for (const p of tsPages) expect(await (await fetch(dev.url + p.url)).text()).toContain(`${p.text} shared</p>`);
    await sleep(200);
    const before = buildCount();
    fs.writeFileSync(path.join(root, '_lib/shared.ts'), 'export const tag = "edited";\n');
    let body = '';
    for (let i = 0; i < 50 && !body.includes('edited'); i++) {
      await sleep(100);
      body = await (await fetch(dev.url + '/a/p00')).text();
    }
    for (const p of tsPages) expect(await (await fetch(dev.url + p.url)).text()).toContain(`${p.text} edited</p>`);
    // One build of the module (two when a save shows as two events and a request came between them), not 40.
    expect(buildCount() - before).toBeLessThanOrEqual(2);
    // A module that is gone: its importers are compiled again, and report the import they cannot resolve.
    fs.rmSync(path.join(root, '_lib/shared.ts'));
    let res: Response | undefined;
    for (let i = 0; i < 50 && res?.status !== 500; i++) {
      await sleep(100);
      res = await fetch(dev.url + '/a/p01');
    }
    const text = await res!.text();
    expect(res!.status).toBe(500);
    expect(text).toContain('a/p01.ts:1:21');
    expect(text).toContain('../_lib/shared.ts');
  });

  it('production compiles nothing ahead, and the serving process compiles nothing: the start batches run in a child process', async () => {
    const root = tempSite(site());
    const before = buildCount();
    const prod = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true });
    servers.push(prod);
    for (const u of ['/a/p00', '/a/p02', '/b/p03', '/b/p39']) expect((await fetch(prod.url + u)).status).toBe(200);
    expect(buildCount() - before).toBe(0);
  });
});
