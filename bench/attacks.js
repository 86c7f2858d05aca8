// npm run bench:attacks — hostile clients against a production server on
// 127.0.0.1 (issue 14): slowhttptest in its slowloris, slow-body, slow-read
// and range modes, then dotdotpwn-style traversal payloads. During each attack
// a normal client (a new connection per request, as a new visitor) asks for
// /hello every 200 ms; before and after, the server's RSS and open
// descriptors are read from /proc (summed over the primary and its workers). Each attack is bounded: ATTACK_SECONDS
// (default 30) and ATTACK_CONNECTIONS (default 500). Linux only (/proc).
//   node bench/attacks.js [--dev | --baseline]   (--dev: the development server; --baseline: a bare node:http server)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { start, get } from './servers.js';

const SECONDS = Number(process.env.ATTACK_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.ATTACK_CONNECTIONS ?? 500);
const dev = process.argv.includes('--dev');

// The server and its processes: in production a cluster primary hands the
// connections to its workers, so the figures are summed over the process tree.
function tree(pid) {
  const out = [pid];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const kids = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (kids) for (const kid of kids.split(/\s+/)) out.push(...tree(Number(kid)));
  }
  return out;
}
const sum = (pid, one) => tree(pid).reduce((n, p) => n + one(p), 0);
const rssMb = (pid) => sum(pid, (p) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))[1]) / 1024);
const fds = (pid) => sum(pid, (p) => fs.readdirSync(`/proc/${p}/fd`).length);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function site() {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-attacks-'));
  const root = path.join(parent, 'www');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'hello.ts'), 'print(`hello ${QUERY.name ?? "world"}`);');
  fs.writeFileSync(path.join(root, 'form.ts'), 'print(JSON.stringify(Object.keys(QUERY)));');
  fs.writeFileSync(path.join(root, 'index.html'), '<p>index</p>');
  fs.writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  fs.writeFileSync(path.join(parent, 'secret.txt'), 'SECRET-OUTSIDE-ROOT');
  return { parent, root };
}

/** A normal visitor: GET /hello on a new connection every 200 ms until stopped. */
function visitor(url) {
  const samples = [];
  const reasons = {};
  let failures = 0;
  const fail = (why) => {
    failures++;
    reasons[why] = (reasons[why] ?? 0) + 1;
  };
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await Promise.race([get(`${url}/hello?name=v`), sleep(5000).then(() => ({ status: 'timeout' }))]);
        if (res.status === 200 && res.body.includes('hello v')) samples.push(performance.now() - t0);
        else fail(String(res.status));
      } catch (err) {
        fail(err?.code ?? err?.cause?.code ?? err?.message ?? String(err));
      }
      await sleep(200);
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      samples.sort((a, b) => a - b);
      const q = (p) => (samples.length ? samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] : NaN);
      return { answered: samples.length, failures, reasons, p50: q(0.5), p99: q(0.99), max: samples.at(-1) ?? NaN };
    },
  };
}

function slowhttptest(args) {
  return new Promise((resolve) => {
    const p = spawn('slowhttptest', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), (SECONDS + 30) * 1000);
    p.on('close', () => {
      clearTimeout(timer);
      // Its own verdict, from its last status block (coloured with ANSI codes).
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const verdicts = [...plain.matchAll(/service available:\s+(\S+)/gi)].map((m) => m[1]);
      resolve({ available: verdicts.length ? `${verdicts.filter((v) => v === 'YES').length}/${verdicts.length} YES` : '?', out });
    });
  });
}

async function attack(server, name, args) {
  const pid = server.proc.pid;
  const before = { rss: rssMb(pid), fds: fds(pid) };
  const v = visitor(server.url);
  let peak = { rss: before.rss, fds: before.fds };
  const sampler = setInterval(() => {
    try {
      peak = { rss: Math.max(peak.rss, rssMb(pid)), fds: Math.max(peak.fds, fds(pid)) };
    } catch {
      /* exited */
    }
  }, 500);
  const result = await slowhttptest([...args, '-l', String(SECONDS), '-c', String(CONNECTIONS), '-p', '3', '-v', '1']);
  clearInterval(sampler);
  const client = await v.stop();
  await sleep(3000);
  const after = { rss: rssMb(pid), fds: fds(pid) };
  return { name, before, peak, after, client, slowhttptest: result.available };
}

/** dotdotpwn-style payloads: ../ in its encodings, at several depths, to files outside ROOT. */
function traversalPayloads() {
  const ups = ['../', '..%2f', '%2e%2e/', '%2e%2e%2f', '..%5c', '..\\', '%252e%252e%252f', '..%c0%af', '..%c1%9c', '....//', '..;/', '.%2e/', '%2e./', '..%00/', '%uff0e%uff0e/', '..%u2215', '..%255c', '/..', '..//'];
  const targets = ['etc/passwd', 'etc/hosts', 'secret.txt', 'proc/self/environ', 'windows/win.ini'];
  const out = [];
  for (const up of ups) for (let depth = 1; depth <= 8; depth++) for (const t of targets) out.push('/' + up.repeat(depth) + t);
  for (const t of targets) out.push(`/%2F${t}`, `//${t}`, `/./${t}`, `/static/..%2f..%2f${t}`, `/hello/..%2f..%2f${t}`, `/${t}%00.html`, `/big.bin/../../${t}`);
  return out;
}

/** Sends the request line as is (no URL normalisation by a client library). */
function rawGet(url, target) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname);
    let data = '';
    s.setTimeout(5000, () => s.destroy());
    s.on('connect', () => s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => (data += d.toString('latin1')));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
  });
}

async function traversal(server) {
  const payloads = traversalPayloads();
  const statuses = {};
  const leaks = [];
  const pid = server.proc.pid;
  const before = { rss: rssMb(pid), fds: fds(pid) };
  for (let i = 0; i < payloads.length; i += 20) {
    await Promise.all(
      payloads.slice(i, i + 20).map(async (p) => {
        const res = await rawGet(server.url, p);
        const status = /^HTTP\/1\.1 (\d+)/.exec(res)?.[1] ?? 'none';
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (/SECRET-OUTSIDE-ROOT|root:x:0:0|127\.0\.0\.1\s+localhost|\[fonts\]|PATH=/.test(res)) leaks.push(p);
      }),
    );
  }
  await sleep(1000);
  return { name: 'traversal', payloads: payloads.length, statuses, leaks, before, after: { rss: rssMb(pid), fds: fds(pid) } };
}

const { root } = site();
const args = ['bin/karrigell-ts.js', 'serve', root, '--port', '0', '--quiet', ...(dev ? [] : ['--production']), ...(process.env.ATTACK_SERVER_ARGS?.split(' ').filter(Boolean) ?? [])];
// --baseline: the same attacks against a bare node:http server (the page, and
// files streamed with fs.createReadStream as `send` does): what Node itself gives.
const bare = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const root = process.argv[1];
const s = http.createServer((req, res) => {
  const p = req.url.split('?', 1)[0];
  if (p === '/hello') return res.end('hello v');
  const file = path.join(root, path.normalize(p));
  fs.stat(file, (err, st) => {
    if (err || !st.isFile() || !file.startsWith(root)) { res.statusCode = 404; return res.end(); }
    res.setHeader('content-length', st.size);
    fs.createReadStream(file).pipe(res);
  });
});
s.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + s.address().port));`;
const server = process.argv.includes('--baseline')
  ? await start('bare node:http', ['-e', bare, root], { stderr: 'pipe' })
  : await start(dev ? 'karrigell-ts (development)' : 'karrigell-ts (production)', args, { stderr: 'pipe' });
let serverErr = '';
server.proc.stderr.on('data', (d) => (serverErr += d));
await get(`${server.url}/hello`);
await get(`${server.url}/big.bin`);
await sleep(500);
const u = server.url;
const results = [];
console.log(`# ${server.name} at ${u}: ${SECONDS} s per attack, ${CONNECTIONS} connections; idle RSS ${rssMb(server.proc.pid).toFixed(0)} MB, ${fds(server.proc.pid)} fds`);
const runs = [
  ['slowloris (slow headers)', ['-H', '-u', `${u}/hello`, '-i', '5', '-r', '200', '-x', '24']],
  ['slow body (R-U-Dead-Yet)', ['-B', '-u', `${u}/form`, '-i', '5', '-r', '200', '-s', '8192', '-x', '10']],
  ['slow read (3 MB static, tiny window)', ['-X', '-u', `${u}/big.bin`, '-r', '200', '-w', '512', '-y', '1024', '-n', '5', '-z', '32', '-k', '3']],
  ['range (Apache killer, static)', ['-R', '-u', `${u}/big.bin`, '-r', '200', '-a', '10', '-b', '3000']],
];
// ATTACK_ONLY=slow-read (a word of the attack's name) runs only the attacks whose name contains it.
const only = process.env.ATTACK_ONLY?.replace(/-/g, ' ');
// ATTACK_ROUNDS=2 runs the attacks twice: memory that stays after the first round must not grow in the second.
const rounds = Number(process.env.ATTACK_ROUNDS ?? 1);
const chosen = runs.filter(([n]) => !only || n.includes(only));
for (const [name, a] of Array.from({ length: rounds }, () => chosen).flat()) {
  const r = await attack(server, name, a);
  results.push(r);
  const c = r.client;
  console.log(
    `${name}: visitor ${c.answered} answered, ${c.failures} failed${c.failures ? ` ${JSON.stringify(c.reasons)}` : ''}, p50 ${c.p50.toFixed(1)} ms, p99 ${c.p99.toFixed(1)} ms, max ${c.max.toFixed(1)} ms; ` +
      `RSS ${r.before.rss.toFixed(0)} → peak ${r.peak.rss.toFixed(0)} → ${r.after.rss.toFixed(0)} MB 3 s after; fds ${r.before.fds} → peak ${r.peak.fds} → ${r.after.fds}; slowhttptest: service available ${r.slowhttptest || '?'}`,
  );
}
const t = only && !'traversal'.includes(only) ? null : await traversal(server);
if (t) results.push(t);
if (t) console.log(`traversal: ${t.payloads} payloads, statuses ${JSON.stringify(t.statuses)}, files read outside ROOT: ${t.leaks.length ? t.leaks.join(' ') : 'none'}; fds ${t.before.fds} → ${t.after.fds}, RSS ${t.before.rss.toFixed(0)} → ${t.after.rss.toFixed(0)} MB`);
if (serverErr.trim()) console.log(`server stderr (first 5 lines):\n${serverErr.split('\n').slice(0, 5).join('\n')}`);
server.proc.kill();
const bad = results.filter((r) => (r.client && r.client.failures > 0) || (r.leaks && r.leaks.length) || r.after.fds > r.before.fds + 5);
console.log(bad.length ? `# NOT OK: ${bad.map((r) => r.name).join(', ')}` : '# OK: the visitor was answered during every attack, nothing read outside ROOT, descriptors back');
process.exit(bad.length ? 1 : 0);
