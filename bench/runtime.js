// npm run bench -- --runtime bun|deno: karrigell-ts on Bun or Deno against that runtime's
// own server with a bare handler (bench/baseline-native.js: Bun.serve, Deno.serve), the
// same bare handler with X-Content-Type-Options: nosniff on every response (as SPEC has
// every karrigell-ts response carry it: what a second header costs that server), and
// against bare node:http on Node, in one run, interleaved as run.js does (the ratio of a
// workload is the median of the rounds' own ratios). The runtime's binary: KTS_BUN /
// KTS_DENO, else `bun` / `deno` on the PATH.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { start, get, cookieOf } from './servers.js';

const WORKLOADS = [
  { name: 'hello-world script', path: '/hello' },
  { name: '10 KB static file', path: '/static.bin' },
  { name: 'session page, existing session', path: '/counter', cookie: true },
  { name: 'new session every request', path: '/new-session' },
];

function binaryOf(runtime) {
  const fromEnv = process.env[runtime === 'bun' ? 'KTS_BUN' : 'KTS_DENO'];
  if (fromEnv) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, runtime))) return path.join(dir, runtime);
  }
  throw new Error(`${runtime} not found: set KTS_${runtime.toUpperCase()} to its binary or put it on the PATH`);
}

/** Runs the runtime's rows with run.js's helpers (wrk, inTurn, median); returns the table's rows. */
export async function benchRuntime(runtime, { wrk, inTurn, median, rounds, selected }) {
  if (runtime !== 'bun' && runtime !== 'deno') throw new Error(`--runtime: bun or deno, not ${runtime}`);
  const bin = binaryOf(runtime);
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  const pre = runtime === 'deno' ? ['run', '-A'] : [];
  const native = `${runtime === 'bun' ? 'Bun.serve' : 'Deno.serve'}`;
  const sameHead = `${native} + nosniff`;
  const started = [];
  const rows = [];
  try {
    const all = {
      'node:http': await start('node:http', ['bench/baseline.js', '0']),
      [native]: await start(native, [...pre, 'bench/baseline-native.js', '0'], { node: bin }),
      // The same bare handler with the one header SPEC adds to every response: what the
      // runtime's server charges for a second header, apart from the pipeline's cost.
      [sameHead]: await start(sameHead, [...pre, 'bench/baseline-native.js', '0', '--nosniff'], { node: bin }),
      // --workers 0: one process, as the baselines (production otherwise runs under a primary).
      karrigell: await start(`karrigell-ts on ${runtime}`, [...pre, 'bin/karrigell-ts.js', 'serve', 'bench/site', '--port', '0', '--quiet', '--production', '--workers', '0'], { node: bin }),
    };
    started.push(...Object.values(all));
    console.log(`${version}: karrigell-ts on ${runtime} against ${native} with a bare handler and node:http (Node ${process.versions.node})`);
    for (const w of WORKLOADS.filter((w) => selected(w.name))) {
      const servers = Object.values(all);
      const results = Object.fromEntries(servers.map((s) => [s.name, []]));
      for (let round = 0; round < rounds; round++) {
        for (const s of inTurn(servers, round)) {
          const url = s.url + w.path;
          const warm = await get(url);
          if (warm.status !== 200) throw new Error(`${s.name} ${w.path}: ${warm.status}`);
          results[s.name].push(wrk(url, w.cookie ? [`Cookie: ${await cookieOf(url)}`] : []));
        }
      }
      const ratio = (name, base) => median(results[name].map((r, i) => r / results[base][i])).toFixed(2);
      for (const s of servers) {
        const of = (base) => `${ratio(s.name, base)} of ${base}`;
        const ratios = s.name === 'node:http' ? ['1.00 of node:http'] : s.name === native ? [of(native), of('node:http')] : [of(native), of(sameHead), of('node:http')];
        const row = { workload: w.name, server: s.name, 'req/s': Math.round(median(results[s.name])), ratio: ratios.join(', ') };
        rows.push(row);
        console.log(`${row.workload.padEnd(34)} ${row.server.padEnd(18)} ${String(row['req/s']).padStart(7)} req/s  ${row.ratio}`);
      }
    }
  } finally {
    for (const s of started) s.proc.kill('SIGKILL');
  }
  return rows;
}
