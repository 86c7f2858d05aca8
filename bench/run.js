// npm run bench: karrigell-ts against a bare node:http handler (and peers) on the
// same workloads in one run. Prints requests/s and the ratio to the baseline;
// quote the ratios: absolute figures drift on shared machines.
// Load comes from wrk (apt-get install wrk): -t1 -c32, BENCH_SECONDS per round,
// BENCH_ROUNDS interleaved rounds (each server in turn, the order reversed every other
// round). A ratio is the median of the rounds' own ratios: each compares servers measured
// seconds apart, so the slow drifts of a shared machine cancel out; req/s is the median
// of the rounds. BENCH_ONLY=word,word selects workloads.
import { spawn, execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, get, cookieOf, load, servingPid } from './servers.js';

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
const statusMb = (pid, key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const rssOf = (pid) => statusMb(pid, 'VmRSS');
/** Peak RSS (VmHWM): the most the process held at any time of the run, workers' threads included. */
const peakRssOf = (pid) => statusMb(pid, 'VmHWM');

// --runtime bun|deno: karrigell-ts on that runtime against its own server and node:http (bench/runtime.js).
const runtimeAt = process.argv.indexOf('--runtime');
if (runtimeAt > 0) {
  const { benchRuntime } = await import('./runtime.js');
  const rows = await benchRuntime(process.argv[runtimeAt + 1], { wrk, inTurn, median, rounds: ROUNDS, selected });
  console.log('\nSummary (median of %d paired rounds of %ds):', ROUNDS, SECONDS);
  console.table(rows);
  process.exit(0);
}

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
  // --workers 0: one process, like the baseline (in production a supervising primary otherwise runs the worker; it only hands over connections).
  all['karrigell-ts'] = await start('karrigell-ts', ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production', '--workers', '0']);
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

  if (selected('h2')) {
    // Hello world over HTTPS/HTTP/2 (h2load, Debian nghttp2-client) against a bare node:http2 handler
    // (the compatibility API: what node:http2 servers are written with), and its stream API for reference.
    let hasH2load = true;
    try {
      execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    } catch {
      hasH2load = false;
      console.error('HTTPS/h2: skipped (needs h2load: apt-get install -y nghttp2-client)');
    }
    if (hasH2load) {
      const { selfSignedCertificate } = await import('../dist/tls.js');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-bench-tls-'));
      const { cert, key } = selfSignedCertificate(['localhost'], ['127.0.0.1']);
      fs.writeFileSync(path.join(dir, 'cert.pem'), cert);
      fs.writeFileSync(path.join(dir, 'key.pem'), key);
      const tlsArgs = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
      const h2servers = [
        await start('node:http2', ['bench/baseline-h2.js', '0', ...tlsArgs]),
        await start('node:http2 stream API', ['bench/baseline-h2.js', '0', ...tlsArgs, '--stream']),
        await start('karrigell-ts h2', ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production', '--tls-cert', tlsArgs[0], '--tls-key', tlsArgs[1]]),
      ];
      started.push(...h2servers);
      const h2load = (url) => {
        const text = execFileSync('h2load', ['-D', String(SECONDS), '-c', '16', '-m', '10', '-t', '1', url], { encoding: 'utf8' });
        const bad = /requests: .*?(\d+) failed, (\d+) errored/.exec(text);
        const non2xx = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
        if ((bad && (bad[1] !== '0' || bad[2] !== '0')) || (non2xx && non2xx.slice(1).some((n) => n !== '0'))) console.error(`  warning: h2load ${url}: ${bad?.[0]} ${non2xx?.[0]}`);
        return Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(text)?.[1] ?? 0);
      };
      const results = Object.fromEntries(h2servers.map((s) => [s.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of inTurn(h2servers, round)) {
          const res = await new Promise((resolve) => execFile('h2load', ['-n', '1', s.url + '/hello'], (err, out) => resolve(err ? String(err) : out)));
          if (!/1 succeeded/.test(res)) throw new Error(`h2load cannot talk to ${s.name}: ${res}`);
          results[s.name].push(h2load(s.url + '/hello'));
        }
      }
      const base = results['node:http2'];
      for (const s of h2servers) {
        const row = { workload: 'hello over HTTPS/h2 (h2load)', server: s.name, 'req/s': Math.round(median(results[s.name])), ratio: `${median(results[s.name].map((r, i) => r / base[i])).toFixed(2)} of node:http2` };
        rows.push(row);
        console.log(`${row.workload.padEnd(34)} ${row.server.padEnd(14)} ${String(row['req/s']).padStart(7)} req/s  ratio ${row.ratio}`);
      }
    }
  }

  if (selected('reload')) {
    // SIGHUP (zero-downtime reload) in the middle of a wrk run: every answer must be a 2xx, no socket error.
    const k = await start('karrigell-ts (reload)', ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production'], { stderr: 'pipe' });
    started.push(k);
    let log = '';
    k.proc.stderr.on('data', (d) => (log += d));
    await get(k.url + '/hello');
    const seconds = Math.max(SECONDS * 2, 6);
    const run = new Promise((resolve, reject) =>
      execFile('wrk', ['-t1', '-c32', `-d${seconds}s`, k.url + '/hello'], (err, out) => (err ? reject(err) : resolve(out))),
    );
    await new Promise((r) => setTimeout(r, 1500));
    k.proc.kill('SIGHUP');
    const text = await run;
    const reloadMs = /reloaded in (\d+) ms/.exec(log)?.[1];
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
    const socketErrors = socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
    const requests = /(\d+) requests in/.exec(text)?.[1];
    console.log(
      `\nreload: SIGHUP during ${seconds} s of wrk -c32 on /hello: ${requests} requests, ${non2xx} non-2xx, ${socketErrors} socket errors; ` +
        (reloadMs ? `new worker serving ${reloadMs} ms after the signal` : `no reload seen (stderr: ${log.trim()})`),
    );
    rows.push({ workload: 'SIGHUP reload under wrk', server: 'karrigell-ts', 'req/s': Math.round(Number(/Requests\/sec:\s*([\d.]+)/.exec(text)?.[1] ?? 0)), ratio: `${non2xx} non-2xx, ${socketErrors} socket errors, ${reloadMs ?? '?'} ms` });
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
    const fresh = await start('karrigell-ts (fresh)', ['bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production', '--workers', '0']);
    started.push(fresh);
    const url = fresh.url + '/new-session';
    await load(url, 1000, 32);
    const first = rssOf(servingPid(fresh.proc.pid));
    const t0 = Date.now();
    await load(url, 99_000, 32);
    const after = rssOf(servingPid(fresh.proc.pid));
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

  // Peak RSS of the servers over the whole run (each took the same workloads, one process each:
  // karrigell-ts runs with --workers 0); the extra servers of the h2, reload, memory and workers
  // rows are not counted.
  console.log(
    '\npeak RSS under the load above: ' +
      Object.values(all)
        .map((s) => `${s.name} ${peakRssOf(servingPid(s.proc.pid)).toFixed(0)} MB`)
        .join(', '),
  );
  rows.push({ workload: 'peak RSS (VmHWM)', server: 'karrigell-ts', 'req/s': '', ratio: `${(peakRssOf(servingPid(all['karrigell-ts'].proc.pid)) - peakRssOf(all['node:http'].proc.pid)).toFixed(0)} MB over node:http` });

  console.log('\nSummary (ratio to bare node:http: median of %d paired rounds of %ds):', ROUNDS, SECONDS);
  console.table(rows);
} finally {
  for (const s of started) s.proc.kill('SIGKILL');
}
