// Issue 14 (hostile files) and issue 16 (large sites): the development
// watcher watches only what ROOT serves, at a bounded cost. A symbolic link
// inside ROOT that points outside it (to /usr) is never followed, node_modules
// is never watched, and a site of thousands of files is watched within the
// system's inotify limit (or one clear line says what to raise). The number of
// inotify watches is read from the server process's /proc/PID/fdinfo.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnCli, tempSite, sleep, type CliProcess } from './helpers.js';
import { watchErrorLine } from '../src/live/watch.js';

const linux = process.platform === 'linux';

/** inotify watches held by a process (Linux): one `inotify wd:` line per watch in the fdinfo of its inotify descriptors. */
function inotifyWatches(pid: number): number {
  let count = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!target.includes('inotify')) continue;
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    count += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
  }
  return count;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function timed(url: string): Promise<{ ms: number; status: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  return { ms: performance.now() - t0, status: res.status, text };
}

let cli: CliProcess | undefined;
afterEach(async () => {
  await cli?.kill();
  cli = undefined;
});

describe.runIf(linux)('the development watcher', () => {
  it('never follows a link to /usr inside ROOT, never watches node_modules; RSS, /hello latency and the log stay sane', async () => {
    const nodeModules: Record<string, string> = {};
    for (let i = 0; i < 300; i++) nodeModules[`node_modules/pkg${i % 30}/f${i}.js`] = 'export {}';
    const root = tempSite({ 'hello.ts': 'print("hello");', 'about.tsp': '<p><%= 1 + 1 %></p>', ...nodeModules });
    fs.symlinkSync('/usr', path.join(root, 'usr-link'));
    fs.symlinkSync('/', path.join(root, 'slash'));
    cli = await spawnCli(['serve', root, '--port', '0', '--quiet']);
    const pid = cli.child.pid!;
    const first = await timed(`${cli.url}/hello`);
    expect(first.status).toBe(200);
    const rssStart = rssMb(pid);
    const latencies: number[] = [];
    for (let i = 0; i < 25; i++) {
      const r = await timed(`${cli.url}/hello`);
      expect(r.text).toContain('hello');
      latencies.push(r.ms);
      await sleep(100);
    }
    const watches = inotifyWatches(pid);
    const rssEnd = rssMb(pid);
    latencies.sort((a, b) => a - b);
    console.log(`watcher, link to /usr and / in ROOT: ${watches} inotify watches, RSS ${rssStart.toFixed(0)} → ${rssEnd.toFixed(0)} MB, /hello median ${latencies[12]!.toFixed(1)} ms, max ${latencies[24]!.toFixed(1)} ms, stderr ${cli.stderr().split('\n').filter(Boolean).length} lines`);
    // Followed, /usr alone is tens of thousands of folders and files.
    expect(watches).toBeLessThan(50);
    // (Followed: 1.2 GB. The rise from the start is the type banner's TypeScript worker, with or without the link.)
    expect(rssEnd).toBeLessThan(400);
    expect(latencies[12]!).toBeLessThan(100);
    // Followed: ~10 s without an answer, then 0.8–1.7 s each.
    expect(latencies[24]!).toBeLessThan(3000);
    expect(cli.stderr()).not.toMatch(/ENOTDIR|EACCES|ELOOP/);
    expect(cli.stderr().split('\n').filter(Boolean).length).toBeLessThan(5);
    // The live part still works for what ROOT serves.
    fs.writeFileSync(path.join(root, 'hello.ts'), 'print("changed");');
    let text = '';
    for (let i = 0; i < 50 && !text.includes('changed'); i++) {
      await sleep(50);
      text = (await timed(`${cli.url}/hello`)).text;
    }
    expect(text).toContain('changed');
  }, 60_000);

  it('watches a 5 000-file site within the inotify limit, edits show live, no error line', async () => {
    const files: Record<string, string> = { 'hello.ts': 'print("hello");' };
    for (let i = 0; i < 5000; i++) files[`d${Math.floor(i / 100)}/p${i}.ts`] = `print("page ${i}");`;
    const root = tempSite(files);
    const limit = Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8'));
    cli = await spawnCli(['serve', root, '--port', '0', '--quiet']);
    const pid = cli.child.pid!;
    expect((await timed(`${cli.url}/d49/p4999`)).text).toContain('page 4999');
    const watches = inotifyWatches(pid);
    console.log(`watcher, 5 000-file site: ${watches} inotify watches (limit ${limit}), RSS ${rssMb(pid).toFixed(0)} MB`);
    expect(watches).toBeLessThan(limit);
    fs.writeFileSync(path.join(root, 'd49', 'p4999.ts'), 'print("edited");');
    let text = '';
    for (let i = 0; i < 60 && !text.includes('edited'); i++) {
      await sleep(50);
      text = (await timed(`${cli.url}/d49/p4999`)).text;
    }
    expect(text).toContain('edited');
    expect(cli.stderr()).toBe('');
  }, 90_000);
});

describe('running out of inotify watches', () => {
  it('is one line that says what to raise and its current value', () => {
    const err = Object.assign(new Error('ENOSPC: System limit for number of file watchers reached, watch \'/x\''), { code: 'ENOSPC' });
    const line = watchErrorLine(err, '/srv/www');
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/fs\.inotify\.max_user_watches = \d+/);
    expect(line).toMatch(/sudo sysctl fs\.inotify\.max_user_watches=\d+/);
    expect(line).toContain('/srv/www');
  });
});
