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
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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

const SERVERS = [
  { name: 'node:http', args: ['bench/baseline.js', '0'] },
  { name: 'karrigell-ts', args: ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production'] },
];

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-callgrind-'));

/** Starts `node args` under callgrind (instrumentation off); resolves with { url, proc } once it prints its URL. */
function start(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}/cg.%p`, process.execPath, ...args], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no URL from ${args.join(' ')} under valgrind: ${text}`)), 120_000);
    proc.stdout.on('data', (d) => {
      text += d;
      const m = /http:\/\/[\d.]+:\d+/.exec(text);
      if (m) {
        clearTimeout(timer);
        proc.stdout.removeAllListeners('data');
        proc.stdout.resume();
        resolve({ url: m[0], proc });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} under valgrind`)));
  });
}

/** `count` keep-alive GETs, `concurrency` at a time. */
async function load(url, count, headers, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent, headers }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++;
      await one();
    }
  }));
  agent.destroy();
}

function cookieOf(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      res.resume();
      const m = /sessionId=[^;]+/.exec((res.headers['set-cookie'] ?? []).join('\n'));
      if (m) resolve(m[0]);
      else reject(new Error(`no session cookie from ${url}`));
    }).on('error', reject);
  });
}

/** Instructions per request of one server on one workload. */
async function measure(server, workload) {
  const { url, proc } = await start(server.args);
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  try {
    const target = url + workload.path;
    const headers = workload.cookie ? { cookie: await cookieOf(target) } : {};
    await load(target, WARM, headers, 32);
    execFileSync('callgrind_control', ['-i', 'on', String(proc.pid)], { stdio: 'ignore' });
    await load(target, COUNT, headers, 1);
    execFileSync('callgrind_control', ['-i', 'off', String(proc.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['-d', String(proc.pid)], { stdio: 'ignore' });
  } finally {
    proc.kill('SIGKILL');
    await exited;
  }
  // The dump holds the counted part; the final dump (at exit) has what came after.
  let total = 0;
  for (const f of fs.readdirSync(out).filter((f) => f.startsWith(`cg.${proc.pid}`))) {
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
