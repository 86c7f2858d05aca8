// npm run bench: karrigell-ts against a bare node:http handler (and peers) on the
// same workloads in one run. Prints requests/s and the ratio to the baseline;
// quote the ratios: absolute figures drift on shared machines.
// Load comes from wrk (apt-get install wrk): -t1 -c32, BENCH_SECONDS per round,
// BENCH_ROUNDS interleaved rounds (each server in turn, the order reversed every other
// round). A ratio is the median of the rounds' own ratios: each compares servers measured
// seconds apart, so the slow drifts of a shared machine cancel out; req/s is the median
// of the rounds. BENCH_ONLY=word,word selects workloads.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import { start, get, cookieOf, load } from './servers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ONLY = process.env.BENCH_ONLY?.split(',');
const selected = (name) => !ONLY || ONLY.some((o) => name.includes(o));

try {
  execFileSync('wrk', ['--version'], { stdio: 'ignore' });
} catch (err) {
  if (err.code === 'ENOENT') {
    console.error('npm run bench needs wrk: apt-get install -y wrk');
    process.exit(1);
  }
}

function wrk(url, headers = []) {
  const args = ['-t1', '-c32', `-d${SECONDS}s`];
  for (const h of headers) args.push('-H', h);
  const text = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1];
  if (errors) console.error(`  warning: ${errors} non-2xx responses from ${url}`);
  return Number(/Requests\/sec:\s*([\d.]+)/.exec(text)?.[1] ?? 0);
}

/** The servers of a round in turn: every other round in reverse order, so no one always goes first. */
const inTurn = (xs, round) => (round % 2 ? [...xs].reverse() : xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

const WORKLOADS = [
  { name: 'hello-world script', path: '/hello', servers: ['node:http', 'karrigell-ts', 'express'] },
  { name: '10 KB static file', path: '/static.bin', servers: ['node:http', 'karrigell-ts'] },
  // Compressed rows: karrigell-ts sends br (the static form is made once and kept; the page is
  // compressed on every request), node:http the same bytes as they are.
  { name: '10 KB static text, br/gzip', path: '/static.txt', headers: ['Accept-Encoding: br, gzip'], servers: ['node:http', 'karrigell-ts'] },
  { name: '10 KB page, br/gzip on the fly', path: '/page10k', headers: ['Accept-Encoding: br, gzip'], servers: ['node:http', 'karrigell-ts'] },
  { name: 'session page, existing session', path: '/counter', cookie: true, servers: ['node:http', 'karrigell-ts', 'express'] },
  { name: 'new session every request', path: '/new-session', servers: ['node:http', 'karrigell-ts', 'express'] },
];

/** Template workloads: karrigell-ts only, compared with its own hello-world script. */
const TEMPLATES = [
  { name: '.tsp page, 100-row table', path: '/table' },
  { name: '.tsx page, 100-row table', path: '/table-jsx' },
];

const all = {};
const started = [];
const rows = [];
try {
  all['node:http'] = await start('node:http', ['bench/baseline.js', '0']);
  all['karrigell-ts'] = await start('karrigell-ts', ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production']);
  all['express'] = await start('express', ['bench/express.js', '0']);
  started.push(...Object.values(all));

  for (const w of WORKLOADS.filter((w) => selected(w.name))) {
    const servers = w.servers.map((n) => all[n]);
    const results = Object.fromEntries(servers.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of inTurn(servers, round)) {
        const url = s.url + w.path;
        const warm = await get(url, Object.fromEntries((w.headers ?? []).map((h) => h.split(': ')))); // warm up (compile, compress)
        if (w.headers && s.name === 'karrigell-ts' && warm.headers['content-encoding'] !== 'br') throw new Error(`${w.path}: not compressed (${warm.headers['content-encoding']})`);
        const headers = [...(w.headers ?? []), ...(w.cookie ? [`Cookie: ${await cookieOf(url)}`] : [])];
        results[s.name].push(wrk(url, headers));
      }
    }
    const base = results['node:http'];
    for (const s of servers) {
      const rps = median(results[s.name]);
      const ratio = median(results[s.name].map((r, i) => r / base[i]));
      const row = { workload: w.name, server: s.name, 'req/s': Math.round(rps), ratio: ratio.toFixed(2) };
      rows.push(row);
      console.log(`${row.workload.padEnd(34)} ${row.server.padEnd(14)} ${String(row['req/s']).padStart(7)} req/s  ratio ${row.ratio}`);
    }
  }

  if (TEMPLATES.some((t) => selected(t.name))) {
    const k = all['karrigell-ts'];
    const results = { hello: [] };
    for (const t of TEMPLATES) results[t.path] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of inTurn([{ path: '/hello' }, ...TEMPLATES.filter((t) => selected(t.name))], round)) {
        const res = await get(k.url + t.path);
        if (res.status !== 200) throw new Error(`${t.path}: ${res.status} ${res.body.slice(0, 200)}`);
        results[t.path === '/hello' ? 'hello' : t.path].push(wrk(k.url + t.path));
      }
    }
    for (const t of TEMPLATES.filter((t) => selected(t.name))) {
      const rps = median(results[t.path]);
      const ratio = median(results[t.path].map((r, i) => r / results.hello[i]));
      const row = { workload: t.name, server: 'karrigell-ts', 'req/s': Math.round(rps), ratio: `${ratio.toFixed(2)} of hello` };
      rows.push(row);
      console.log(`${row.workload.padEnd(34)} ${row.server.padEnd(14)} ${String(row['req/s']).padStart(7)} req/s  ratio ${row.ratio}`);
    }
  }

  if (selected('lost increments')) {
    // 32 concurrent requests of one visitor, 320 in all: how many increments survive?
    console.log('\nlost increments (320 requests of one session, 32 at a time):');
    for (const s of [all['node:http'], all['karrigell-ts'], all['express']]) {
      const url = s.url + '/counter';
      const cookie = await cookieOf(url); // visit 1
      await load(url, 320, 32, { cookie });
      const last = Number(/visit number (\d+)/.exec((await get(url, { cookie })).body)[1]);
      const kept = last - 2; // minus the first and the last visit
      console.log(`  ${s.name.padEnd(14)} kept ${kept} of 320 increments (${(((320 - kept) / 320) * 100).toFixed(0)}% lost)`);
    }
  }

  if (selected('memory')) {
    // A fresh server with the default bound (1000 sessions): RSS after 1 000 and after 100 000 new sessions.
    const fresh = await start('karrigell-ts (fresh)', ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production']);
    started.push(fresh);
    const url = fresh.url + '/new-session';
    await load(url, 1000, 32);
    const first = rssOf(fresh.proc.pid);
    const t0 = Date.now();
    await load(url, 99_000, 32);
    const after = rssOf(fresh.proc.pid);
    console.log(
      `\nmemory: RSS after 1 000 session-creating requests ${first.toFixed(1)} MB, after 100 000 ${after.toFixed(1)} MB ` +
        `(+${(after - first).toFixed(1)} MB; ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }

  if (selected('workers')) {
    // The session page (existing session) on --workers 2 with the Redis store, against the
    // single-process memory store: the cost of sessions shared across processes.
    let hasRedis = true;
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    } catch {
      hasRedis = false;
      console.error('workers + Redis: skipped (needs redis-server: apt-get install -y redis-server)');
    }
    if (hasRedis) {
      const redisPort = await new Promise((resolve) => {
        const s = http.createServer().listen(0, '127.0.0.1', () => {
          const { port } = s.address();
          s.close(() => resolve(port));
        });
      });
      const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      started.push({ proc: redis });
      for (let i = 0; i < 100; i++) {
        const up = await new Promise((resolve) => {
          const c = net.connect(redisPort, '127.0.0.1', () => c.end(() => resolve(true))).on('error', () => resolve(false));
        });
        if (up) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const clustered = await start('karrigell-ts --workers 2 (redis)', [
        'bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production',
        '--workers', '2', '--session-store', `redis://127.0.0.1:${redisPort}`,
      ]);
      started.unshift(clustered); // stopped before Redis
      const single = all['karrigell-ts'];
      const results = { memory: [], redis: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [key, s] of inTurn([['memory', single], ['redis', clustered]], round)) {
          const url = s.url + '/counter';
          await get(url); // warm up
          results[key].push(wrk(url, [`Cookie: ${await cookieOf(url)}`]));
        }
      }
      const memory = median(results.memory);
      const shared = median(results.redis);
      const ratio = median(results.redis.map((r, i) => r / results.memory[i]));
      const row = { workload: 'session page, 2 workers + Redis', server: 'karrigell-ts', 'req/s': Math.round(shared), ratio: `${ratio.toFixed(2)} of 1 process + memory` };
      rows.push(row);
      console.log(`${row.workload.padEnd(34)} ${row.server.padEnd(14)} ${String(row['req/s']).padStart(7)} req/s  ratio ${row.ratio} (${Math.round(memory)} req/s)`);
    }
  }

  console.log('\nSummary (ratio to bare node:http: median of %d paired rounds of %ds):', ROUNDS, SECONDS);
  console.table(rows);
} finally {
  for (const s of started) s.proc.kill('SIGKILL');
}
