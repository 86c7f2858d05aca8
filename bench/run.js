// npm run bench: karrigell-ts against a bare node:http handler (and peers) on the
// same workloads in one run. Prints requests/s and the ratio to the baseline;
// quote the ratios: absolute figures drift on shared machines.
// Load comes from wrk (apt-get install wrk): -t1 -c32, BENCH_SECONDS per round,
// BENCH_ROUNDS interleaved rounds, median kept.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ONLY = process.env.BENCH_ONLY?.split(',');

try {
  execFileSync('wrk', ['--version'], { stdio: 'ignore' });
} catch (err) {
  if (err.code === 'ENOENT') {
    console.error('npm run bench needs wrk: apt-get install -y wrk');
    process.exit(1);
  }
}

/** Starts a server process; resolves with { url, proc } once it prints its URL. */
function start(name, cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out}`)), 20_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/[\d.]+:\d+/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout.resume();
        resolve({ name, url: m[0], proc });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
  });
}

function wrk(url, headers = []) {
  const args = ['-t1', '-c32', `-d${SECONDS}s`, '--latency'];
  for (const h of headers) args.push('-H', h);
  const text = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s*([\d.]+)/.exec(text)?.[1] ?? 0);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1];
  if (errors) console.error(`  warning: ${errors} non-2xx responses from ${url}`);
  return rps;
}

/** One GET on a fresh connection: { status, headers, body }. */
function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

async function cookieOf(url) {
  const res = await get(url);
  const set = (res.headers['set-cookie'] ?? []).join('\n');
  const m = /sessionId=[^;]+/.exec(set) ?? /connect\.sid=[^;]+/.exec(set);
  if (!m) throw new Error(`no session cookie from ${url}`);
  return m[0];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Each workload: a name and, per server, the path to load and whether it needs a session cookie first. */
const WORKLOADS = [
  { name: 'hello-world script', path: '/hello' },
  { name: '10 KB static file', path: '/static.bin' },
  { name: 'session page, existing session', path: '/counter', cookie: true },
  { name: 'new session every request', path: '/new-session' },
];

const servers = [];
try {
  servers.push(await start('node:http', process.execPath, ['bench/baseline.js', '0']));
  servers.push(await start('karrigell-ts', process.execPath, ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production']));
  const rows = [];
  for (const w of WORKLOADS) {
    if (ONLY && !ONLY.some((o) => w.name.includes(o))) continue;
    const results = Object.fromEntries(servers.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of servers) {
        const url = s.url + w.path;
        await get(url); // warm up (compile)
        const headers = w.cookie ? [`Cookie: ${await cookieOf(url)}`] : [];
        results[s.name].push(wrk(url, headers));
      }
    }
    const base = median(results['node:http']);
    for (const s of servers) {
      const rps = median(results[s.name]);
      rows.push({ workload: w.name, server: s.name, 'req/s': Math.round(rps), ratio: (rps / base).toFixed(2) });
    }
    console.log(rows.filter((r) => r.workload === w.name).map((r) => `${r.workload.padEnd(34)} ${r.server.padEnd(14)} ${String(r['req/s']).padStart(7)} req/s  ratio ${r.ratio}`).join('\n'));
  }
  console.log('\nSummary (ratio to bare node:http, median of %d rounds of %ds):', ROUNDS, SECONDS);
  console.table(rows);
} finally {
  for (const s of servers) s.proc.kill('SIGKILL');
}
