/** The site's rules (src/site.ts) and the URL decoding (toSegments), as pure functions. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { isDeclarationFile, isHiddenName, isPrivatePath, isScriptFile, listScripts, siteFolder, within, INDEX_FILES } from '../dist/site.js';
import { toSegments } from '../dist/http/resolve.js';
import { tempSite } from './helpers.js';

describe('site rules', () => {
  it('scripts are .ts, .tsx, .tsp — never declaration files', () => {
    for (const f of ['a.ts', 'b.tsx', 'c.tsp', 'd.e.ts']) expect(isScriptFile(f), f).toBe(true);
    for (const f of ['a.d.ts', 'b.d.mts', 'c.d.cts', 'a.js', 'a.html', 'ts', 'a.ts.bak']) expect(isScriptFile(f), f).toBe(false);
    expect(isDeclarationFile('x.d.ts')).toBe(true);
    expect(isDeclarationFile('x.ts')).toBe(false);
  });

  it('hidden, private and configuration names are never served', () => {
    for (const n of ['.env', '_lib', 'node_modules', 'package.json', 'package-lock.json', 'tsconfig.json']) expect(isHiddenName(n), n).toBe(true);
    for (const n of ['index.ts', 'lib', 'a_b', 'package.json5']) expect(isHiddenName(n), n).toBe(false);
    expect(isPrivatePath('/r', '/r/_lib/a.ts')).toBe(true);
    expect(isPrivatePath('/r', '/r/blog/a.ts')).toBe(false);
    expect(INDEX_FILES).toEqual(['index.ts', 'index.tsx', 'index.tsp', 'index.html', 'index.htm']);
  });

  it('within() compares whole path segments', () => {
    expect(within('/a/b', '/a/b')).toBe(true);
    expect(within('/a/b', '/a/b/c')).toBe(true);
    expect(within('/a/b', '/a/bc')).toBe(false);
  });

  it('listScripts walks the site, skipping dot-folders, node_modules and declaration files', () => {
    const root = tempSite({ 'a.ts': '', 'b/c.tsx': '', '_lib/d.ts': '', '.git/e.ts': '', 'node_modules/f/g.ts': '', 'types.d.ts': '', 'h.html': '' });
    expect(listScripts(root).map((f: string) => path.relative(root, f))).toEqual(['_lib/d.ts', 'a.ts', 'b/c.tsx']);
  });

  it('siteFolder says why a folder cannot be a site', () => {
    const root = tempSite({ 'file.txt': 'x' });
    expect(siteFolder(root)).toEqual({ real: fs.realpathSync(root) });
    expect(siteFolder(path.join(root, 'nope'))).toEqual({ problem: expect.stringContaining('does not exist') });
    expect(siteFolder(path.join(root, 'file.txt'))).toEqual({ problem: expect.stringContaining('is not a folder') });
  });
});

describe('toSegments (URL path → safe segments)', () => {
  const cases: [string, unknown][] = [
    ['/', { segments: [], trailingSlash: true }],
    ['/a/b', { segments: ['a', 'b'], trailingSlash: false }],
    ['/a/b/', { segments: ['a', 'b'], trailingSlash: true }],
    ['/caf%C3%A9', { segments: ['café'], trailingSlash: false }],
    ['/%zz', { status: 400, reason: expect.any(String) }],
    ['/a%00b', { status: 400, reason: expect.any(String) }],
    ['/..', { status: 404, reason: expect.any(String) }],
    ['/%2e%2e/etc', { status: 404, reason: expect.any(String) }],
    ['/a\\b', { status: 404, reason: expect.any(String) }],
    ['/a//b', { status: 404, reason: expect.any(String) }],
    ['/_lib/x', { status: 404, reason: expect.any(String) }],
    ['/package.json', { status: 404, reason: expect.any(String) }],
    ['relative', { status: 400, reason: expect.any(String) }],
  ];
  for (const [input, expected] of cases) {
    it(`${input}`, () => expect(toSegments(input)).toEqual(expected));
  }
});
