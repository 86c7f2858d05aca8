// npm run bench:scale: karrigell-ts on large generated sites (SCALE_SIZES,
// default 100,1000,5000 pages: 70% .ts, 20% .tsp, 10% .tsx, 50 pages a
// folder, every .ts page importing _lib/shared.ts). For each size it prints:
//   production start  time from spawning `serve --production` to its banner
//   first visit       development: every page loaded once, in turn (compile + run), per page
//   RSS dev           development server after those visits (worker threads included)
//   RSS production    production: the serving process (the worker under the primary) after one
//                     visit of every page (peak, VmHWM)
//   compiler processes  child processes of that serving process then (esbuild's service: 0 expected)
//   check             `karrigell-ts check ROOT`, wall time
//   edit latency      development: write _lib/shared.ts → a page importing it answers the
//                     new content (median of SCALE_EDITS edits, default 7)
// Machine-dependent absolute times: quote them with the machine (2 shared cores here).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { start, get, servingPid } from './servers.js';

const SIZES = (process.env.SCALE_SIZES ?? '100,1000,5000').split(',').map(Number);
const EDITS = Number(process.env.SCALE_EDITS ?? 7);
const PER_FOLDER = 50;
const status = (pid, key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Writes a site of `n` pages; returns its ROOT and the URL paths of its pages. */
function generate(n) {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `kts-scale-${n}-`)), 'www');
  fs.mkdirSync(path.join(root, '_lib'), { recursive: true });
  fs.writeFileSync(path.join(root, '_lib', 'shared.ts'), 'export const version = "v0";\nexport function title(s: string): string {\n  return s.toUpperCase();\n}\n');
  const urls = [];
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `s${Math.floor(i / PER_FOLDER)}`);
    fs.mkdirSync(dir, { recursive: true });
    const kind = i % 10 < 7 ? 'ts' : i % 10 < 9 ? 'tsp' : 'tsx';
    const name = `page${i}`;
    let text;
    if (kind === 'ts') {
      text =
        `import { title, version } from "../_lib/shared.ts";\n` +
        `const items: string[] = ["a${i}", "b${i}", "c${i}"];\n` +
        `print(html\`<!doctype html><h1>\${title("page ${i}")} \${version}</h1><ul>\${items.map((x) => html\`<li>\${x}</li>\`)}</ul>\`);\n`;
    } else if (kind === 'tsp') {
      text = `<!doctype html>\n<h1>page ${i}</h1>\n<% const items: number[] = [1, 2, 3]; %>\n<ul><% for (const x of items) { %><li><%= x * ${i} %></li><% } %></ul>\n`;
    } else {
      text = `const items = ["x", "y"];\nfunction Item({ v }: { v: string }) {\n  return <li>{v}</li>;\n}\n<h1>page ${i}</h1>;\n<ul>{items.map((v) => <Item v={v} />)}</ul>;\n`;
    }
    fs.writeFileSync(path.join(dir, `${name}.${kind}`), text);
    urls.push(`/s${Math.floor(i / PER_FOLDER)}/${name}`);
  }
  return { root, urls };
}

async function visitAll(url, urls, agent) {
  for (const u of urls) {
    const res = await get(url + u, {}, agent);
    if (res.status !== 200) throw new Error(`${u}: ${res.status} ${res.body.slice(0, 300)}`);
  }
}

async function measure(n) {
  const { root, urls } = generate(n);
  const out = { pages: n };
  const agent = new http.Agent({ keepAlive: true });
  try {
    // Production: start time, then every page once; peak RSS.
    let t0 = performance.now();
    const prod = await start('production', ['bin/karrigell-ts.js', 'serve', root, '--port', '0', '--quiet', '--production'], { timeoutMs: 600_000 });
    out.productionStartMs = performance.now() - t0;
    try {
      await visitAll(prod.url, urls, agent);
      // Production runs the site in a worker under a primary that only hands over connections.
      const serving = servingPid(prod.proc.pid);
      out.rssProductionMb = status(serving, 'VmHWM');
      out.compilerProcesses = Number(execFileSync('sh', ['-c', `ps --ppid ${serving} -o pid= | wc -l`], { encoding: 'utf8' }).trim());
    } finally {
      prod.proc.kill();
    }

    // Development: first visit of every page, RSS, edit latency. (A generous --timeout: on a
    // loaded machine the first .tsx compile, which loads TypeScript, can take over 10 s.)
    const dev = await start('development', ['bin/karrigell-ts.js', 'serve', root, '--port', '0', '--quiet', '--timeout', '120'], { timeoutMs: 120_000 });
    try {
      t0 = performance.now();
      await visitAll(dev.url, urls, agent);
      out.firstVisitMsPerPage = (performance.now() - t0) / n;
      out.rssDevMb = status(dev.proc.pid, 'VmRSS');
      const shared = path.join(root, '_lib', 'shared.ts');
      const original = fs.readFileSync(shared, 'utf8');
      const latencies = [];
      for (let e = 1; e <= EDITS; e++) {
        await sleep(300);
        const want = `v${e}`;
        const started = performance.now();
        fs.writeFileSync(shared, original.replace('"v0"', JSON.stringify(want)));
        for (let tries = 0; ; tries++) {
          if ((await get(dev.url + urls[0], {}, agent)).body.includes(`PAGE 0 ${want}`)) break;
          if (tries > 20_000) throw new Error(`edit ${e} never showed`);
          await sleep(1);
        }
        latencies.push(performance.now() - started);
      }
      out.editMedianMs = median(latencies);
    } finally {
      dev.proc.kill();
    }

    // check: the type checker over the whole site.
    t0 = performance.now();
    const check = spawn(process.execPath, ['bin/karrigell-ts.js', 'check', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let checkOut = '';
    check.stdout.on('data', (d) => (checkOut += d));
    check.stderr.on('data', (d) => (checkOut += d));
    const code = await new Promise((r) => check.on('close', r));
    out.checkMs = performance.now() - t0;
    if (code !== 0) out.checkProblem = checkOut.trim().split('\n').slice(-3).join(' | ');
  } finally {
    agent.destroy();
    fs.rmSync(path.dirname(root), { recursive: true, force: true });
  }
  return out;
}

console.log(`bench:scale on Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('pages  production start  first visit/page  RSS dev  RSS production (peak)  compiler processes  check     edit → new response (median)');
for (const n of SIZES) {
  const r = await measure(n);
  console.log(
    `${String(r.pages).padStart(5)}  ${(r.productionStartMs / 1000).toFixed(2).padStart(14)} s  ${r.firstVisitMsPerPage.toFixed(1).padStart(13)} ms  ` +
      `${r.rssDevMb.toFixed(0).padStart(4)} MB  ${r.rssProductionMb.toFixed(0).padStart(17)} MB     ${String(r.compilerProcesses).padStart(14)}  ` +
      `${(r.checkMs / 1000).toFixed(1).padStart(5)} s  ${r.editMedianMs.toFixed(1).padStart(8)} ms${r.checkProblem ? `  (check: ${r.checkProblem})` : ''}` +
      `  (load ${os.loadavg()[0].toFixed(2)})`,
  );
}
