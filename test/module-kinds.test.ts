/**
 * Pages and site modules are ES modules whatever the project's package.json
 * says (SPEC §3): `"type": "commonjs"` (what `npm init -y` writes), no
 * `"type"`, no package.json at all. Every page of the `init` site answers in
 * each case. And `init` writes a package.json (`"type": "module"`, start and
 * check scripts) where there is none, never overwriting one.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testSite } from '../dist/testing.js';
import { runCli } from './helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-kinds-'));
  made.push(dir);
  return dir;
}

/** Every page of the init site, with the status a GET answers (/calc redirects to its index service). */
const INIT_PAGES: [string, number][] = [
  ['/', 200],
  ['/hello?name=Ann', 200],
  ['/calc', 302],
  ['/calc/index', 200],
  ['/calc/add?a=2&b=3', 200],
  ['/planets', 200],
  ['/table', 200],
  ['/visits', 200],
];

async function initSite(dir: string): Promise<string> {
  const www = path.join(dir, 'www');
  const out = await runCli(['init', www], 30_000);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  return www;
}

async function expectEveryPageAnswers(www: string, production: boolean): Promise<void> {
  const site = await testSite(www, { production });
  try {
    for (const [url, status] of INIT_PAGES) {
      const r = await site.get(url);
      expect(`${url} ${r.status}`, r.text.slice(0, 300)).toBe(`${url} ${status}`);
    }
    expect((await site.get('/hello?name=Ann')).text).toContain('Hello Ann!');
    expect((await site.get('/calc/add?a=2&b=3')).text).toContain('5');
  } finally {
    await site.close();
  }
}

describe('pages are ES modules whatever package.json says', () => {
  const cases: [string, string | undefined][] = [
    ['"type": "commonjs" (npm init -y)', JSON.stringify({ name: 'p', version: '1.0.0', main: 'index.js', type: 'commonjs' })],
    ['no "type"', JSON.stringify({ name: 'p', version: '1.0.0' })],
    ['no package.json', undefined],
  ];
  for (const [name, pkg] of cases) {
    for (const production of [false, true]) {
      it(`${name}, ${production ? 'production' : 'development'}: every page of the init site answers`, async () => {
        const dir = project();
        if (pkg) fs.writeFileSync(path.join(dir, 'package.json'), pkg);
        const www = await initSite(dir);
        if (!pkg) fs.rmSync(path.join(dir, 'package.json')); // init wrote one: take it away again
        expect(fs.existsSync(path.join(dir, 'package.json'))).toBe(!!pkg);
        await expectEveryPageAnswers(www, production);
      });
    }
  }

  it('a module without exports, with exports, and a .tsp page in a commonjs project keep their line numbers in errors', async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }));
    const www = path.join(dir, 'www');
    fs.mkdirSync(path.join(www, '_lib'), { recursive: true });
    fs.writeFileSync(path.join(www, '_lib', 'side.ts'), 'globalThis.sideEffect = "ran";\n');
    fs.writeFileSync(path.join(www, '_lib', 'util.ts'), 'export const twice = (n: number) => n * 2;\n');
    fs.writeFileSync(path.join(www, 'use.ts'), "import './_lib/side.ts';\nimport { twice } from './_lib/util.ts';\nprint(twice(21), (globalThis as any).sideEffect);\n");
    fs.writeFileSync(path.join(www, 'fail.ts'), '// line 1\n\nthrow new Error("boom");\n');
    fs.writeFileSync(path.join(www, 'list.tsp'), '<ul><% for (const x of [1, 2]) { %><li><%= x %></li><% } %></ul>\n');
    const site = await testSite(www);
    try {
      expect((await site.get('/use')).text.trim()).toBe('42 ran');
      const fail = await site.get('/fail', { headers: { accept: 'text/html' } });
      expect(fail.status).toBe(500);
      expect(fail.text).toContain('fail.ts:3:7');
      expect((await site.get('/list')).text).toContain('<li>1</li><li>2</li>');
    } finally {
      await site.close();
    }
  });
});

describe('init writes a package.json where there is none', () => {
  it('in a folder without one: "type": "module", start and check scripts', async () => {
    const dir = project();
    const out = await runCli(['init', path.join(dir, 'www')], 30_000);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/created .*package\.json/);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.private).toBe(true);
    expect(pkg.scripts).toEqual({ start: 'karrigell-ts serve www', check: 'karrigell-ts check www' });
  });

  it('never overwrites one (a commonjs package.json stays as it was)', async () => {
    const dir = project();
    const text = JSON.stringify({ name: 'mine', version: '1.0.0', type: 'commonjs', scripts: { test: 'x' } }, null, 2);
    fs.writeFileSync(path.join(dir, 'package.json'), text);
    const out = await runCli(['init', path.join(dir, 'www')], 30_000);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toMatch(/package\.json/);
    expect(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe(text);
  });

  it('writes none when a folder above has one (the site is part of that project)', async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"outer"}');
    const out = await runCli(['init', path.join(dir, 'apps', 'site', 'www')], 30_000);
    expect(out.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'apps', 'site', 'package.json'))).toBe(false);
    expect(fs.readdirSync(dir).sort()).toEqual(['apps', 'package.json']);
  });
});
