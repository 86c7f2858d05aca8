// npm run bench:instructions: machine instructions per request, counted by valgrind's
// callgrind, for the bare node:http handler and karrigell-ts on the bench workloads.
// Unlike req/s on a shared machine, an instruction count repeats run after run: it
// tells whether a change made the request's path longer. It is not time (cache misses
// and the kernel's share are not in it): `npm run bench` stays the measure of speed.
// Each server runs under callgrind with instrumentation off, gets WARM requests (32 at
// a time: the JIT settles), then COUNT requests one after the other with instrumentation
// on (one at a time, so that every request takes a whole turn of the event loop: with
// many in flight, how many share a turn depends on timing, and so would the count).
// BENCH_ONLY=word,word selects workloads.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, cookieOf, load, servingPid } from './servers.js';
const WARM = Number(process.env.BENCH_WARM ?? 20_000);
const COUNT = Number(process.env.BENCH_COUNT ?? 5_000);
const ONLY = process.env.BENCH_ONLY?.split(',');

for (const tool of ['valgrind', 'callgrind_control']) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
  } catch (err) {
    if (err.code === 'ENOENT') {
      console.error(`npm run bench:instructions needs ${tool}: apt-get install -y valgrind`);
      process.exit(1);
    }
  }
}

const WORKLOADS = [
  { name: 'hello-world script', path: '/hello' },
  { name: '10 KB static file', path: '/static.bin' },
  { name: 'session page, existing session', path: '/counter', cookie: true },
  { name: 'new session every request', path: '/new-session' },
].filter((w) => !ONLY || ONLY.some((o) => w.name.includes(o)));

// --workers 0: callgrind counts the process it starts, which must be the one serving (not a supervising primary).
const SERVERS = [
  { name: 'node:http', args: ['bench/baseline.js', '0'] },
  { name: 'karrigell-ts', args: ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production', '--workers', '0'] },
];

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-callgrind-'));

/** Instructions per request of one server on one workload. */
async function measure(server, workload) {
  // Instrumentation off until the warm-up is done.
  // --trace-children: in production karrigell-ts serves from a worker its primary forks (SPEC §8); its count is the one.
  const wrapper = ['valgrind', '--tool=callgrind', '--trace-children=yes', '--instr-atstart=no', `--callgrind-out-file=${out}/cg.%p`];
  const { url, proc } = await start(server.name, server.args, { wrapper, timeoutMs: 120_000, stderr: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let pid = proc.pid;
  try {
    const target = url + workload.path;
    const headers = workload.cookie ? { cookie: await cookieOf(target) } : {};
    await load(target, WARM, 32, headers);
    pid = servingPid(proc.pid);
    execFileSync('callgrind_control', ['-i', 'on', String(pid)], { stdio: 'ignore' });
    await load(target, COUNT, 1, headers);
    execFileSync('callgrind_control', ['-i', 'off', String(pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
  } finally {
    proc.kill('SIGKILL');
    await exited;
  }
  // The dump holds the counted part; the final dump (at exit) has what came after.
  let total = 0;
  for (const f of fs.readdirSync(out).filter((f) => f.startsWith(`cg.${pid}`))) {
    total = Math.max(total, Number(/^totals: (\d+)/m.exec(fs.readFileSync(path.join(out, f), 'utf8'))?.[1] ?? 0));
  }
  return total / COUNT;
}

const rows = [];
try {
  for (const w of WORKLOADS) {
    const figures = {};
    for (const s of SERVERS) figures[s.name] = await measure(s, w);
    const row = {
      workload: w.name,
      'node:http instr/req': Math.round(figures['node:http']),
      'karrigell-ts instr/req': Math.round(figures['karrigell-ts']),
      'karrigell-ts / node:http': (figures['karrigell-ts'] / figures['node:http']).toFixed(2),
    };
    rows.push(row);
    console.log(`${w.name.padEnd(32)} node:http ${String(row['node:http instr/req']).padStart(7)}  karrigell-ts ${String(row['karrigell-ts instr/req']).padStart(7)}  ratio ${row['karrigell-ts / node:http']}`);
  }
  console.log(`\nInstructions per request (callgrind; ${WARM} requests to warm up, ${COUNT} counted; below 1 = fewer than the bare handler):`);
  console.table(rows);
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
