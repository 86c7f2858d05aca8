/**
 * Production keeps only what serving needs: after the start no compiler
 * process (esbuild's service) and no TypeScript thread (the .tsx pass) stays
 * beside the server, also after a script first compiled at run time (an
 * Include of a private script); the pages (.ts, .tsp, .tsx) all answer.
 */
import { it, expect } from 'vitest';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { sleep, spawnCli, tempSite } from './helpers.js';

/** The command lines of the processes whose parent is `pid` (ps exits 1 when there is none). */
const children = (pid: number): string[] => {
  try {
    return execFileSync('ps', ['--ppid', String(pid), '-o', 'args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim());
  } catch (err) {
    if ((err as { status?: number }).status === 1) return [];
    throw err;
  }
};
const threads = (pid: number): number => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

it('no esbuild process and no .tsx thread stay after the production start, nor after a late compile', async () => {
  const root = tempSite({
    'a.ts': 'print("<p>a</p>");\n',
    'b.tsp': '<p><%= 1 + 1 %></p>\n',
    'c.tsx': 'const n = 3;\n<p>c {n}</p>;\n',
    'inc.ts': 'print("<div>");\nawait Include("_inc/part.tsx");\nprint("</div>");\n',
    '_inc/part.tsx': '<i>part</i>;\n',
  });
  // --workers 0: the serving process itself, without the primary that production otherwise runs it under.
  const cli = await spawnCli(['serve', root, '--port', '0', '--production', '--quiet', '--workers', '0'], { NODE_ENV: '' });
  try {
    const pid = cli.child.pid!;
    await sleep(300);
    expect(children(pid)).toEqual([]);
    const atStart = threads(pid);
    expect(await (await fetch(cli.url + '/a')).text()).toContain('<p>a</p>');
    expect(await (await fetch(cli.url + '/b')).text()).toContain('<p>2</p>');
    expect(await (await fetch(cli.url + '/c')).text()).toContain('<p>c 3</p>');
    // The included .tsx is compiled now, as a page: esbuild and the .tsx worker start, then go.
    expect(await (await fetch(cli.url + '/inc')).text()).toContain('<div>\n<i>part</i>\n</div>');
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      left = children(pid);
      if (!left.length && threads(pid) <= atStart) break;
    }
    expect(left).toEqual([]);
    expect(threads(pid)).toBeLessThanOrEqual(atStart);
    expect(await (await fetch(cli.url + '/inc')).text()).toContain('<div>\n<i>part</i>\n</div>');
  } finally {
    await cli.kill();
  }
});
