/**
 * The architecture's rules (src/README.md), checked by reading the imports of
 * src/**: which folder may import which, no import cycles (type-only ones
 * included), typecheck/ loads neither esbuild nor the script runtime.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT } from './helpers.js';

const SRC = path.join(PROJECT, 'src');

/** What each room may import of ours (a room is a folder of src/, or a top-level file). */
export const ALLOWED: Record<string, string[]> = {
  // Leaves: import nothing of ours.
  'options.ts': [],
  'log.ts': [],
  'html.ts': [],
  'site.ts': [],
  'scope-names.ts': [],
  'runtime.ts': [],
  'cache.ts': [],
  // TLS files and the development certificate: their errors are OptionErrors.
  'tls.ts': ['options.ts', 'cache.ts'],
  'encoding.ts': [],
  'heap.ts': [],
  // The request and response types of the pipeline (node:http's subset; http/native.ts implements them on Bun and Deno).
  'exchange.ts': [],
  // The TypeScript worker keeps its code cache in the cache folder, and gives its heap's memory back (heap.ts).
  syntax: ['cache.ts', 'heap.ts'],
  script: ['exchange.ts', 'html.ts', 'site.ts', 'scope-names.ts', 'log.ts', 'encoding.ts', 'runtime.ts', 'syntax'],
  session: ['script', 'log.ts', 'options.ts'],
  names: ['script', 'html.ts', 'site.ts'],
  http: ['exchange.ts', 'script', 'session', 'names', 'html.ts', 'site.ts', 'log.ts', 'options.ts', 'encoding.ts'],
  live: ['exchange.ts', 'script', 'http', 'names', 'site.ts', 'log.ts', 'options.ts', 'encoding.ts'],
  typecheck: ['syntax', 'site.ts', 'scope-names.ts', 'log.ts', 'http', 'script'],
  cli: ['*'],
  // Entries: the public API and the wiring.
  'jsx-runtime.ts': ['html.ts'],
  'index.ts': ['*'],
  'server.ts': ['*'],
  // `karrigell-ts/testing`: a test's client of a site started by createServer.
  'testing.ts': ['server.ts', 'options.ts'],
};

/** Rooms whose imports may only be types (they must not load the runtime). */
const TYPE_ONLY: Record<string, string[]> = { typecheck: ['http', 'script'] };
/** Packages a room must never load (value imports). */
const NEVER_LOADS: Record<string, string[]> = { typecheck: ['esbuild'] };

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
  /** `new URL('./x.js', import.meta.url)`: a worker or process started from that file, not an import (no cycle). */
  spawn: boolean;
}

export function readEdges(src: string): { files: string[]; edges: Edge[]; packages: { from: string; name: string; typeOnly: boolean }[] } {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(path.relative(src, full).split(path.sep).join('/'));
    }
  };
  walk(src);
  const edges: Edge[] = [];
  const packages: { from: string; name: string; typeOnly: boolean }[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g;
  for (const file of files) {
    const text = fs.readFileSync(path.join(src, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const m of text.matchAll(re)) {
      const spec = m[4] ?? m[5] ?? m[6]!;
      if (m[6] && !spec.endsWith('.js')) continue; // a data file (../../package.json)
      // `import { type A, type B }` is type-only too.
      const names = m[3] ?? '';
      const typeOnly = !!m[2] || (/^\{[^}]*\}$/.test(names.trim()) && names.replace(/[{}\s]/g, '').split(',').filter(Boolean).every((n) => n.startsWith('type')));
      if (spec.startsWith('.')) {
        const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
        edges.push({ from: file, to, typeOnly, spawn: !!m[6] });
      } else if (!spec.startsWith('node:')) packages.push({ from: file, name: spec, typeOnly });
    }
  }
  return { files, edges, packages };
}

export function roomOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file;
}

export function violations(src: string, allowed = ALLOWED): string[] {
  const { files, edges, packages } = readEdges(src);
  const out: string[] = [];
  for (const file of files) if (!(roomOf(file) in allowed)) out.push(`${file}: its room ${roomOf(file)} is not listed in the rules (add it to src/README.md and ALLOWED)`);
  for (const e of edges) {
    const from = roomOf(e.from);
    const to = roomOf(e.to);
    if (!files.includes(e.to)) out.push(`${e.from} imports ${e.to}, which does not exist`);
    if (from === to) continue;
    const rule = allowed[from] ?? [];
    if (!rule.includes('*') && !rule.includes(to)) out.push(`${e.from} imports ${e.to}: ${from} may not import ${to}`);
    if (!e.typeOnly && TYPE_ONLY[from]?.includes(to)) out.push(`${e.from} imports ${e.to} for its values: ${from} may import only types from ${to}`);
  }
  for (const p of packages) {
    if (!p.typeOnly && NEVER_LOADS[roomOf(p.from)]?.includes(p.name)) out.push(`${p.from} loads ${p.name}: ${roomOf(p.from)} never loads it`);
  }
  // Cycles between files, type-only imports included.
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.spawn) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      out.push(`import cycle: ${[...stack.slice(stack.indexOf(f)), f].join(' → ')}`);
      return;
    }
    state.set(f, 'open');
    stack.push(f);
    for (const t of next.get(f) ?? []) visit(t);
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) visit(f);
  return out;
}

describe('layering of src/', () => {
  it('every import follows the rules of src/README.md, with no cycle', () => {
    expect(violations(SRC)).toEqual([]);
  });

  it('src/README.md names every room', () => {
    const readme = fs.readFileSync(path.join(SRC, 'README.md'), 'utf8');
    for (const room of Object.keys(ALLOWED)) expect(readme, room).toContain('`' + (room.endsWith('.ts') ? room : room + '/') + '`');
  });

  it('a deliberate violation is found: script/ importing http/, a leaf importing, a cycle', () => {
    const tmp = fs.mkdtempSync(path.join(PROJECT, 'node_modules', '.kts-layering-'));
    try {
      fs.mkdirSync(path.join(tmp, 'script'));
      fs.mkdirSync(path.join(tmp, 'http'));
      fs.writeFileSync(path.join(tmp, 'script', 'a.ts'), "import { b } from '../http/b.js';\nexport const a = b;\n");
      fs.writeFileSync(path.join(tmp, 'http', 'b.ts'), "import type { a } from '../script/a.js';\nexport const b = 1 as unknown as typeof a;\n");
      fs.writeFileSync(path.join(tmp, 'log.ts'), "import { b } from './http/b.js';\nexport const l = b;\n");
      const found = violations(tmp);
      expect(found).toContain('script/a.ts imports http/b.ts: script may not import http');
      expect(found).toContain('log.ts imports http/b.ts: log.ts may not import http');
      expect(found.some((v) => v.startsWith('import cycle: '))).toBe(true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
