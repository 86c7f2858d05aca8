/**
 * `karrigell-ts init` and `karrigell-ts check` (issue 7): a fresh site checks
 * clean and serves every example, existing files are never overwritten, type
 * errors are reported at their file:line:col (also inside .tsp pages), and
 * Karrigell's `_name` shortcuts are not errors.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, PROJECT, spawnCli, writeFiles, type CliProcess } from './helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-init-'));
  made.push(dir);
  return dir;
}

/** Runs the CLI to its end in `cwd`. */
function run(args: string[], cwd: string, ms = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NODE_ENV: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const EXAMPLE_FILES = ['index.ts', 'hello.ts', 'calc.ts', 'planets.tsx', 'table.tsp', 'visits.ts', '_lib/page.ts', 'style.css', 'tsconfig.json'];

describe('init', () => {
  const parent = tempDir();
  const site = path.join(parent, 'www');
  let initOut = { code: null as number | null, stdout: '', stderr: '' };

  it('creates a ready site in an empty folder and says what it created', async () => {
    initOut = await run(['init'], parent);
    expect(initOut.stderr).toBe('');
    expect(initOut.code).toBe(0);
    for (const rel of EXAMPLE_FILES) {
      expect(fs.existsSync(path.join(site, rel)), rel).toBe(true);
      expect(initOut.stdout).toContain(`created www/${rel}`);
    }
    expect(initOut.stdout).not.toMatch(/^\s*skipped/m);
    expect(initOut.stdout).toMatch(/9 files created, 0 skipped in www/);
  });

  it('writes a tsconfig.json that points at the package declarations and JSX runtime', () => {
    const config = JSON.parse(fs.readFileSync(path.join(site, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: Record<string, unknown> & { paths: Record<string, string[]> };
      files: string[];
    };
    const o = config.compilerOptions;
    expect(o.jsxImportSource).toBe('karrigell-ts');
    expect(o.allowImportingTsExtensions).toBe(true);
    expect(o.noEmit).toBe(true);
    expect(o.strict).toBe(true);
    const globals = path.resolve(site, config.files[0]!);
    expect(fs.realpathSync(globals)).toBe(fs.realpathSync(path.join(PROJECT, 'types', 'globals.d.ts')));
    expect(fs.existsSync(path.resolve(site, o.paths['karrigell-ts/jsx-runtime']![0]!))).toBe(true);
    expect(fs.existsSync(path.resolve(site, o.paths['karrigell-ts']![0]!))).toBe(true);
  });

  it('links every example from the home page', () => {
    const index = fs.readFileSync(path.join(site, 'index.ts'), 'utf8');
    for (const href of ['hello', 'calc', 'planets', 'table', 'visits']) expect(index).toContain(`'${href}`);
  });

  it('gives a site that `check` finds clean (exit 0, one summary line)', async () => {
    const out = await run(['check'], parent);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/^karrigell-ts check: www: no type errors in 7 scripts \(\d+ ms\)\n$/);
    expect(out.code).toBe(0);
  });

  it('gives a site whose every example page answers 200 from `serve`', async () => {
    let server: CliProcess | undefined;
    try {
      server = await spawnCli(['serve', site, '--port', '0', '--quiet']);
      const home = await fetch(server.url + '/');
      expect(home.status).toBe(200);
      const html = await home.text();
      const links = [...html.matchAll(/href="([^"#]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
      for (const href of ['hello?name=World', 'calc', 'planets', 'table?n=7', 'visits', '/style.css']) expect(links).toContain(href);
      for (const href of links) {
        const res = await fetch(new URL(href, server.url + '/'));
        expect(res.status, href).toBe(200);
        await res.arrayBuffer();
      }
      const hello = await (await fetch(server.url + '/hello?name=%3Cb%3EAnn')).text();
      expect(hello).toContain('Hello &lt;b&gt;Ann!');
      expect((await (await fetch(server.url + '/calc/sum?a=2&b=3')).json()) as unknown).toEqual({ a: 2, b: 3, sum: 5 });
      expect(await (await fetch(server.url + '/calc/add?a=2&b=3')).text()).toContain('<b>5</b>');
      expect(await (await fetch(server.url + '/planets')).text()).toMatch(/^<!doctype html>\n<html lang="en">.*<b>Earth<\/b>: one moon/s);
      expect(await (await fetch(server.url + '/table?n=3')).text()).toContain('<td>30</td>');
      const first = await fetch(server.url + '/visits');
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      expect(await first.text()).toMatch(/<b>1<\/b> time\s+since/);
      expect(await (await fetch(server.url + '/visits', { headers: { cookie } })).text()).toContain('<b>2</b> times');
    } finally {
      await server?.kill();
    }
  });

  it('never overwrites a file: existing files are skipped and reported', async () => {
    const other = tempDir();
    const dir = path.join(other, 'site');
    writeFiles(dir, { 'hello.ts': 'print("mine");\n', 'tsconfig.json': '{}\n', 'notes.txt': 'keep\n' });
    const out = await run(['init', 'site'], other);
    expect(out.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'hello.ts'), 'utf8')).toBe('print("mine");\n');
    expect(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')).toBe('{}\n');
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('keep\n');
    expect(out.stdout).toMatch(/skipped site\/hello\.ts/);
    expect(out.stdout).toMatch(/skipped site\/tsconfig\.json/);
    expect(out.stdout).toMatch(/created site\/index\.ts/);
    expect(out.stdout).toMatch(/7 files created, 2 skipped/);
    // A second run creates nothing.
    const again = await run(['init', 'site'], other);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 files created, 9 skipped/);
  });

  it('refuses a DIR that is a file: one line on stderr, exit 1', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'www'), 'a file');
    const out = await run(['init'], dir);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^karrigell-ts: init: www exists and is not a folder\n$/);
    expect(fs.readFileSync(path.join(dir, 'www'), 'utf8')).toBe('a file');
  });
});

describe('check', () => {
  // The runs are slow (TypeScript loads @types/node): start them together.
  const parent = tempDir();
  const site = path.join(parent, 'www');
  let bad: Promise<{ code: number | null; stdout: string; stderr: string }>;
  let repo: Promise<{ code: number | null; stdout: string; stderr: string }>;
  beforeAll(() => {
    writeFiles(site, {
      'ok.ts': 'print(html`<p>${QUERY.x ?? "none"}</p>`);\n',
      'number.ts': '// QUERY values are strings (or lists, uploads), not numbers\nconst n = QUERY.n ?? "1";\nprint(n.toFixed(2));\n',
      'shortcuts.ts': '// Karrigell shortcuts: QUERY.name as _name\nprint(html`${_name ?? "?"} ${_undeclared}`);\nconst { _local } = { _local: 1 };\nprint(_local + 1);\n',
      'session.ts':
        'declare global { interface SessionData { user?: { name: string } } }\nconst so = Session();\nprint(so.user.name);\nexport {};\n',
      'page.tsp': '<!doctype html>\n<p><%= QUERY.q %></p>\n  <p>Hi <%= QUERY.missing.toFixed(2) %> and <%= _shortcut %> <%= notDefined %></p>\n<% const y: number = "s"; %>\n',
      'cards.tsx': 'const x: number = 1;\n<h1>hi {x}</h1>\n<p>{x.foo}</p>\n',
      'included.ts': "Include('_inc/header.ts', { title: 'A page' });\n",
      '_inc/header.ts': 'print(title.toUpperCase(), count);\n',
      '_lib/mod.ts': "import { html } from 'karrigell-ts';\nexport const hi = (n: number): string => html`${n}`;\n",
      'count.ts': 'const n: number = _count;\nprint(n);\n',
    });
    bad = run(['check', 'www'], parent);
    repo = run(['check', 'www'], PROJECT);
  });

  it('reports type errors as file:line:col (relative to the current directory), also in .tsp, and exits 1', async () => {
    const out = await bad;
    expect(out.stderr).toBe('');
    expect(out.code).toBe(1);
    const lines = out.stdout.split('\n');
    const has = (prefix: string, re: RegExp): void => {
      expect(lines.some((l) => l.startsWith(prefix) && re.test(l)), `${prefix} ${re} in:\n${out.stdout}`).toBe(true);
    };
    has('www/number.ts:3:9 ', /error TS2339: Property 'toFixed' does not exist on type/);
    has('www/session.ts:3:7 ', /error TS18048: 'so.user' is possibly 'undefined'/);
    has('www/page.tsp:3:13 ', /TS18048: 'QUERY.missing' is possibly 'undefined'/);
    has('www/page.tsp:3:27 ', /TS2339: Property 'toFixed'/);
    has('www/page.tsp:3:66 ', /Cannot find name 'notDefined'/);
    has('www/page.tsp:4:10 ', /TS2322: Type 'string' is not assignable to type 'number'/);
    has('www/cards.tsx:3:7 ', /TS2339: Property 'foo' does not exist on type 'number'/);
    has('www/_inc/header.ts:1:28 ', /Cannot find name 'count'/);
    has('www/_lib/mod.ts:2:42 ', /TS2322: Type 'RawHtml' is not assignable to type 'string'/);
    // Shortcuts, the names an Include passes, and clean files give no error.
    expect(out.stdout).not.toMatch(/_name|_undeclared|_local|_shortcut|'title'|www\/ok\.ts|www\/included\.ts/);
    expect(lines.filter((l) => /^www\/\S+:\d+:\d+ error TS\d+: /.test(l))).toHaveLength(10);
    expect(out.stdout).toMatch(/\nkarrigell-ts check: www: 10 errors in 7 files \(10 scripts checked, \d+ ms\)\n$/);
  });

  it('types the _name shortcuts as form fields', async () => {
    const out = await bad;
    expect(out.stdout).toMatch(/^www\/count\.ts:1:7 error TS2322: Type 'FieldValue' is not assignable to type 'number'\./m);
  });

  it("finds the repository's www/ clean", async () => {
    const out = await repo;
    expect(out.stdout).toMatch(/^karrigell-ts check: www: no type errors in \d+ scripts/m);
    expect(out.code).toBe(0);
  });

  it('says so when ROOT does not exist', async () => {
    const out = await run(['check', 'nowhere'], tempDir());
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^karrigell-ts: check: the site folder nowhere does not exist.*\n$/);
  });
});
