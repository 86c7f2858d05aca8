// npm run bench:memory: the memory bounds, per Node version.
//   sessions: a production server (--max-sessions 1000): RSS after 1 000 new
//     sessions of 8 KB each (64 fields of 120 characters), then after 20 000
//     more; goal: growth < 80 MB.
//   edits: a development server on a copy of the demo site (www/): RSS after
//     a browser-like visit (Sec-Fetch-Dest: document) of every page, then 300
//     edits of one page, each loaded like that once it shows; goals: ≤ 150 MB
//     after the visits, growth < 60 MB over the edits; then RSS once the
//     TypeScript worker has been idle long enough to stop (35 s), and the
//     server's thread count then and after the visits (the same: a fresh thread
//     that holds only the timeout watchdog replaces it; one fewer with --timeout 0);
//     and where the RSS after the visits is (rssSplit: /proc/PID/smaps).
// BENCH_NODES=/path/to/node,/other/node runs each scenario on each binary
// (default: this one); BENCH_ONLY=sessions|edits; BENCH_JSON=1 prints one
// JSON object a line (test/memory-bounds.test.ts reads it). The RSS is the
// server process's (its worker threads included), read from /proc.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, get, load, servingPid } from './servers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODES = (process.env.BENCH_NODES ?? process.execPath).split(',').filter(Boolean);
const ONLY = process.env.BENCH_ONLY?.split(',');
const JSON_OUT = !!process.env.BENCH_JSON;
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 20_000);
const EDITS = Number(process.env.BENCH_EDITS ?? 300);
const selected = (name) => !ONLY || ONLY.includes(name);
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
/** Threads of the process: the TypeScript worker is one, so its stop after idling shows here. */
const threadsOf = (pid) => fs.readdirSync(`/proc/${pid}/task`).length;
const mb = (x) => `${x.toFixed(1)} MB`;
/**
 * Where a process's RSS is, from /proc/PID/smaps (MB): `binary` (the runtime's
 * executable, file pages), `threadArenas` (glibc's malloc arenas of threads
 * other than the main one: 64 MB-aligned reservations), `mainArena` ([heap]),
 * `anonymous` (the rest of the private anonymous memory: V8's heaps of every
 * isolate, large mallocs), `other` (other files, stacks).
 */
function rssSplit(pid) {
  const maps = [];
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) maps.push({ start: parseInt(head[1], 16), size: parseInt(head[2], 16) - parseInt(head[1], 16), perm: head[3], name: head[4], rss: 0 });
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss && maps.length) maps[maps.length - 1].rss = Number(rss[1]) / 1024;
  }
  const exe = fs.readlinkSync(`/proc/${pid}/exe`);
  const ARENA = 64 * 1024 * 1024;
  const split = { binary: 0, threadArenas: 0, mainArena: 0, anonymous: 0, other: 0 };
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    const arena = !m.name && m.perm === 'rw-p' && m.start % ARENA === 0 && (m.size === ARENA || (next && !next.name && next.perm === '---p' && m.size + next.size === ARENA));
    const kind = m.name === exe ? 'binary' : m.name === '[heap]' ? 'mainArena' : arena ? 'threadArenas' : m.name ? 'other' : 'anonymous';
    split[kind] += m.rss;
  });
  return Object.fromEntries(Object.entries(split).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** What a browser sends when it loads a page (the type banner checks only those). */
const NAVIGATION = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', accept: 'text/html,application/xhtml+xml' };

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function report(result) {
  if (JSON_OUT) return console.log(JSON.stringify(result));
  if (result.scenario === 'sessions') {
    console.log(
      `Node ${result.node}  sessions: RSS ${mb(result.before)} after 1 000 new 8 KB sessions, ${mb(result.after)} after ${result.count} more ` +
        `(+${mb(result.after - result.before)}, goal < 80 MB; ${(result.ms / 1000).toFixed(1)} s)`,
    );
  } else {
    console.log(
      `Node ${result.node}  edits: RSS ${mb(result.visited)} after visiting the demo site's ${result.pages} pages (goal ≤ 150 MB), ` +
        `${mb(result.after)} after ${result.count} edits of one page (+${mb(result.after - result.visited)}, goal < 60 MB; peak ${mb(result.peak)}), ` +
        `${mb(result.idle)} once idle for 35 s (threads: ${result.threads.visited} after the visits, ${result.threads.idle} once idle)`,
    );
    const s = result.split;
    console.log(
      `Node ${result.node}  edits: after the visits, ${mb(s.binary)} the executable, ${mb(s.anonymous)} anonymous (V8's heaps), ` +
        `${mb(s.threadArenas)} threads' malloc arenas, ${mb(s.mainArena)} the main arena, ${mb(s.other)} other`,
    );
  }
}

async function sessions(node) {
  const root = path.join(tempDir('kts-bench-mem-'), 'www');
  fs.mkdirSync(root);
  // A session of 8 KB: 64 fields of 120 characters, new strings every time.
  fs.writeFileSync(
    path.join(root, 'profile.ts'),
    `const so = Session();\nconst profile: Record<string, string> = {};\n` +
      `for (let i = 0; i < 64; i++) profile["field" + i] = String(Math.random()).repeat(8).slice(0, 120);\n` +
      `so.profile = profile;\nprint("<p>ok</p>");\n`,
  );
  const server = await start('sessions', ['bin/karrigell-ts.js', 'serve', root, '--port', '0', '--quiet', '--production', '--max-sessions', '1000'], { node, stderr: 'ignore' });
  try {
    const url = server.url + '/profile';
    await load(url, 1000, 16);
    // --production serves from a worker process (node:cluster): its RSS, not the primary's.
    const pid = servingPid(server.proc.pid);
    const before = rssOf(pid);
    const t0 = Date.now();
    await load(url, SESSIONS, 16);
    const after = rssOf(pid);
    return { scenario: 'sessions', node: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim(), count: SESSIONS, before, after, ms: Date.now() - t0 };
  } finally {
    server.proc.kill();
    fs.rmSync(path.dirname(root), { recursive: true, force: true });
  }
}

async function edits(node) {
  const root = path.join(tempDir('kts-bench-edits-'), 'www');
  fs.cpSync(path.join(repo, 'www'), root, { recursive: true });
  const server = await start('edits', ['bin/karrigell-ts.js', 'serve', root, '--port', '0', '--quiet'], { node, stderr: 'ignore' });
  const agent = new http.Agent({ keepAlive: true });
  try {
    // Every page of the demo site, loaded as a browser loads it.
    const pages = [];
    const walk = (dir, base) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
        if (e.isDirectory()) walk(path.join(dir, e.name), base + e.name + '/');
        else if (/\.(tsx?|tsp|html)$/.test(e.name)) pages.push(base + e.name.replace(/\.(tsx?|tsp)$/, ''));
      }
    };
    walk(root, '/');
    for (const p of pages) await get(server.url + p, NAVIGATION, agent);
    await sleep(3000); // the type banner checks the pages in the background
    const visited = rssOf(server.proc.pid);
    const split = rssSplit(server.proc.pid);
    const threads = { visited: threadsOf(server.proc.pid) };
    let peak = visited;
    const file = path.join(root, 'hello.ts');
    const original = fs.readFileSync(file, 'utf8');
    for (let i = 1; i <= EDITS; i++) {
      fs.writeFileSync(file, `${original}\nprint(${JSON.stringify(`<p>edit ${i}</p>`)});\n`);
      for (let tries = 0; !(await get(server.url + '/hello', NAVIGATION, agent)).body.includes(`<p>edit ${i}</p>`); tries++) {
        if (tries > 500) throw new Error(`edit ${i} never showed`);
        await sleep(5);
      }
      await sleep(20);
      if (i % 20 === 0) peak = Math.max(peak, rssOf(server.proc.pid));
    }
    await sleep(3000); // the last checks finish
    const after = rssOf(server.proc.pid);
    // The TypeScript workers stop after 30 s without work.
    await sleep(35_000);
    const idle = rssOf(server.proc.pid);
    threads.idle = threadsOf(server.proc.pid);
    return { scenario: 'edits', node: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim(), pages: pages.length, count: EDITS, visited, split, after, idle, threads, peak: Math.max(peak, after) };
  } finally {
    agent.destroy();
    server.proc.kill();
    fs.rmSync(path.dirname(root), { recursive: true, force: true });
  }
}

for (const node of NODES) {
  if (selected('sessions')) report(await sessions(node));
  if (selected('edits')) report(await edits(node));
}
