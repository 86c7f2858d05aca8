// npm run bench:live: how long from saving a file to the browser showing the
// new content, with live reload, in Chromium (playwright-core). Each edit
// alternates between the page and a module it imports; the browser reports
// when the new content is in the page and a frame is about to be painted.
// Prints every edit, the median and the p95 (goal: median < 50 ms, p95 < 100 ms).
// Then the floor on this machine, for comparison: the same browser told to
// reload by a bare node:http server (no watcher, no compiling) — on a busy
// shared machine quote the difference, the absolute figures drift.
//   LIVE_EDITS (20), LIVE_WARMUP edits not counted (3), LIVE_PAUSE_MS between edits (250),
//   CHROMIUM_PATH (/usr/bin/chromium)
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// Output piped into `head` and closed: stop quietly.
process.stdout.on('error', (err) => process.exit(err.code === 'EPIPE' ? 0 : 1));

const here = path.dirname(fileURLToPath(import.meta.url));
const { createServer } = await import(path.join(here, '..', 'dist', 'index.js'));
const EDITS = Number(process.env.LIVE_EDITS ?? 20);
const PAUSE = Number(process.env.LIVE_PAUSE_MS ?? 250);
const WARMUP = Number(process.env.LIVE_WARMUP ?? 3);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.error(`npm run bench:live needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-bench-live-'));
const root = path.join(parent, 'www');
fs.mkdirSync(path.join(root, '_lib'), { recursive: true });
const page = (n) => `import { footer } from "./_lib/footer.ts";
const items = ["alpha", "beta", "gamma", "delta"];
print(html\`<!doctype html><html><head><title>bench</title><link rel="stylesheet" href="/style.css"></head><body>
<h1 id="v">${n}</h1>
<ul>\${items.map((i) => html\`<li>\${i}</li>\`)}</ul>
\${raw(footer())}
</body></html>\`);
`;
const footer = (n) => `export function footer(): string {
  return '<footer id="f">${n}</footer>';
}
`;
fs.writeFileSync(path.join(root, 'page.ts'), page('p0'));
fs.writeFileSync(path.join(root, '_lib', 'footer.ts'), footer('f0'));
fs.writeFileSync(path.join(root, 'style.css'), 'body { font-family: sans-serif }\n');

const server = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

/**
 * A tab that reports when it has painted a page showing `#v/#f`: `shown(text)`
 * resolves with the time (performance.now()) the browser painted that text.
 */
async function instrumentedTab() {
  const tab = await browser.newPage();
  let waiting;
  await tab.exposeFunction('__benchShown', (text) => {
    const now = performance.now();
    if (waiting && text === waiting.want) waiting.resolve(now);
  });
  await tab.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      const text = document.getElementById('v')?.textContent + '/' + document.getElementById('f')?.textContent;
      requestAnimationFrame(() => window.__benchShown(text));
    });
  });
  const shown = (want, what) =>
    new Promise((resolve, reject) => {
      waiting = { want, resolve };
      setTimeout(() => reject(new Error(`${what} not shown after 10 s`)), 10_000).unref();
    });
  return { tab, shown };
}

try {
  const { tab, shown: shownText } = await instrumentedTab();
  await tab.goto(server.url + '/page');
  await new Promise((r) => setTimeout(r, 500));

  const times = [];
  let p = 'p0';
  let f = 'f0';
  // The first edits warm up the server and the browser: not counted.
  for (let i = 1 - WARMUP; i <= EDITS; i++) {
    let file, text;
    if (i % 2 !== 0) [file, text] = [path.join(root, 'page.ts'), page((p = `p${i}`))];
    else [file, text] = [path.join(root, '_lib', 'footer.ts'), footer((f = `f${i}`))];
    const shown = shownText(`${p}/${f}`, `edit ${i}`);
    const t0 = performance.now();
    fs.writeFileSync(file, text);
    const t1 = await shown;
    if (i < 1) continue;
    times.push(t1 - t0);
    console.log(`edit ${String(i).padStart(2)} (${i % 2 ? 'page  ' : 'module'}): ${(t1 - t0).toFixed(1)} ms`);
    await new Promise((r) => setTimeout(r, PAUSE));
  }
  await tab.close();
  const live = stats(times);
  const floor = stats(await measureFloor(browser));
  console.log(`\nlive reload, file write → new content shown in Chromium, ${EDITS} edits:`);
  console.log(`  median ${live.median.toFixed(1)} ms   p95 ${live.p95.toFixed(1)} ms   min ${live.min.toFixed(1)} ms   max ${live.max.toFixed(1)} ms`);
  console.log(`  goal: median < 50 ms, p95 < 100 ms → ${live.median < 50 && live.p95 < 100 ? 'met' : 'NOT met'}`);
  console.log(`floor on this machine (a bare server tells the browser to reload a static page):`);
  console.log(`  median ${floor.median.toFixed(1)} ms   p95 ${floor.p95.toFixed(1)} ms   → karrigell-ts adds ${(live.median - floor.median).toFixed(1)} ms at the median`);
} finally {
  await browser.close();
  await server.close(500);
  fs.rmSync(parent, { recursive: true, force: true });
}

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { median: pick(0.5), p95: pick(0.95), min: sorted[0], max: sorted[sorted.length - 1] };
}

/** The same measurement against a bare server that only sends `reload` events: what the browser alone costs. */
async function measureFloor(browser) {
  let n = 0;
  let stream;
  const bare = http.createServer((req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('\n');
      stream = res;
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1 id="v">p${n}</h1><footer id="f">f</footer>` +
      `<script>var es = new EventSource('/events'); es.addEventListener('reload', function () { es.close(); location.reload(); });</script></body></html>`);
  });
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const { tab, shown: shownText } = await instrumentedTab();
  await tab.goto(`http://127.0.0.1:${bare.address().port}/`);
  await new Promise((r) => setTimeout(r, 500));
  const times = [];
  for (let i = 1 - WARMUP; i <= EDITS; i++) {
    n = i;
    const shown = shownText(`p${i}/f`, `reload ${i}`);
    const t0 = performance.now();
    stream.write('event: reload\ndata: {}\n\n');
    const t1 = await shown;
    if (i >= 1) times.push(t1 - t0);
    await new Promise((r) => setTimeout(r, PAUSE));
  }
  await tab.close();
  bare.closeAllConnections();
  bare.close();
  return times;
}
