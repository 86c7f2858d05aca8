/**
 * README and www/ cannot drift apart: every code block of README.md whose first
 * line is a comment naming a file of www/ (`// www/hello.ts …`, `<%# www/table.tsp … %>`)
 * is that whole file, and a page answers (200, or 401 for a protected page)
 * from a server on www/ (a site module such as www/_lib/db.ts is never served).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT, startServer, type Running } from './helpers.js';

interface Block {
  file: string;
  code: string;
  line: number;
}

/** Fenced code blocks whose first line names a file of www/. */
function readmeBlocks(): Block[] {
  const md = fs.readFileSync(path.join(PROJECT, 'README.md'), 'utf8');
  const blocks: Block[] = [];
  const fence = /^```[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(md); m; m = fence.exec(md)) {
    const code = m[1]!;
    const named = /^(?:\/\/|<%#)\s*(www\/[^\s:]+?):?(?:\s|$)/.exec(code.split('\n')[0]!);
    if (named) blocks.push({ file: named[1]!, code, line: md.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

/** The URL of a page file of www/. */
function urlOf(file: string): string {
  const rel = file.replace(/^www\//, '').replace(/\.(?:tsx?|tsp)$/, '');
  return '/' + (rel === 'index' ? '' : rel.replace(/(^|\/)index$/, '$1'));
}

const blocks = readmeBlocks();
let server: Running;
beforeAll(async () => {
  server = await startServer(path.join(PROJECT, 'www'));
});
afterAll(async () => {
  await server?.close();
});

describe('README code blocks are the files of www/', () => {
  it('finds the tour in README.md', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.map((b) => b.file)).toEqual(expect.arrayContaining(['www/hello.ts', 'www/table.tsp', 'www/cards.tsx']));
  });

  it.each(blocks.map((b) => [b.file, b] as const))('%s is the whole file, as in README.md', (_file, block) => {
    const file = path.join(PROJECT, block.file);
    expect(fs.existsSync(file), `README.md line ${block.line} names ${block.file}, which does not exist`).toBe(true);
    expect(block.code, `README.md line ${block.line}: the block differs from ${block.file}`).toBe(fs.readFileSync(file, 'utf8'));
  });

  // A module of the site (a file under a `_` folder, e.g. www/_lib/db.ts) is never served: only pages answer.
  const pages = blocks.filter((b) => !b.file.split('/').some((part) => part.startsWith('_')));
  it.each(pages.map((b) => [b.file, b] as const))('%s answers', async (_file, block) => {
    const source = fs.readFileSync(path.join(PROJECT, block.file), 'utf8');
    const res = await fetch(server.url + urlOf(block.file)); // follows a service's redirect to /NAME/index
    await res.arrayBuffer();
    expect(res.status, `${urlOf(block.file)}`).toBe(/\bAuthentication\(/.test(source) ? 401 : 200);
  });
});
