// npm run bench:live: how long from saving a file to the new content in the
// DOM of the open page in Chromium (playwright-core), in both live modes in
// one run: `--live in-place` (the page fetched again and morphed) and
// `--live full` (the browser reloads). Each edit alternates between the page
// and a module it imports. A MutationObserver in the page notes the moment
// the new text is in the DOM, on the same clock as the write (the epoch, in
// ms with fractions: performance.timeOrigin + performance.now() on both sides).
// Prints every edit, the median and the p95 of each mode (goal in place:
// median ≤ 30 ms, p95 ≤ 60 ms), two floors (a bare node:http server telling the
// browser to reload a static page, or to fetch it and swap the text in: what the
// browser alone costs), and the
// bytes of the injected script and of the update module.
// On a busy shared machine quote the difference, the absolute figures drift.
//   LIVE_EDITS (20), LIVE_WARMUP edits not counted (3), LIVE_PAUSE_MS between edits (250),
//   CHROMIUM_PATH (/usr/bin/chromium), LIVE_TRACE=1: also the time of each stage of the
//   path in place (server: the diagnostics channel `karrigell-ts:live`; browser: the
//   event, the fetch), per edit and their medians. LIVE_COMPARE=path/to/other/dist/index.js:
//   a third tab, in place on that build (e.g. main's), interleaved with the others in the
//   same run: a before/after that sees the same load.
//   LIVE_SITE_PARENT: the folder of the bench's sites (~/.cache/karrigell-ts-bench; see below).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import diagnostics_channel from 'node:diagnostics_channel';
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
const TRACE = process.env.LIVE_TRACE === '1';
const COMPARE = process.env.LIVE_COMPARE;
const loadAtStart = os.loadavg()[0];
// A run that hangs (a tab that never shows an edit, a server that does not close) ends with a message, not never.
setTimeout(() => {
  console.error('bench:live: still running after 10 minutes; stopping');
  process.exit(1);
}, 600_000).unref();
/** The server's stages of the current edit (LIVE_TRACE). */
let serverStages = [];
const { TRACE_CHANNEL } = await import(path.join(here, '..', 'dist', 'live', 'trace.js'));
if (TRACE) diagnostics_channel.subscribe(TRACE_CHANNEL, (m) => serverStages.push([m.stage, m.at]));
if (!fs.existsSync(CHROMIUM)) {
  console.error(`npm run bench:live needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

// The sites live where a project would, not in os.tmpdir(): esbuild reads the listing of every
// folder above a file it compiles, and this shared machine's /tmp holds thousands of entries
// (3 743 when measured: a page compile took 11-18 ms there against 4 ms outside, idle).
const siteParent = process.env.LIVE_SITE_PARENT ?? path.join(os.homedir(), '.cache', 'karrigell-ts-bench');
fs.mkdirSync(siteParent, { recursive: true });
const parent = fs.mkdtempSync(path.join(siteParent, 'kts-bench-live-'));
// A page with a form (what an in-place update must keep) and a list.
const page = (n) => `import { footer } from "./_lib/footer.ts";
const items = ["alpha", "beta", "gamma", "delta"];
print(html\`<!doctype html><html><head><title>bench</title><link rel="stylesheet" href="/style.css"></head><body>
<h1 id="v">${n}</h1>
<form method="post"><input id="name" name="name"><textarea name="notes"></textarea><select name="s"><option>a</option><option>b</option></select></form>
<ul>\${items.map((i) => html\`<li>\${i}</li>\`)}</ul>
\${raw(footer())}
</body></html>\`);
`;
const footer = (n) => `export function footer(): string {
  return '<footer id="f">${n}</footer>';
}
`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const now = () => performance.timeOrigin + performance.now();

/**
 * A tab with a MutationObserver from the document's start: `shown(text)`
 * resolves with the time (epoch ms) the DOM first showed `#v/#f` as `text`.
 */
async function instrumentedTab() {
  const tab = await browser.newPage();
  let waiting;
  await tab.exposeFunction('__benchShown', (text, at) => {
    if (waiting && text === waiting.want) waiting.resolve(at);
  });
  await tab.addInitScript(() => {
    let last;
    const check = () => {
      const v = document.getElementById('v');
      const f = document.getElementById('f');
      if (!v || !f) return;
      const text = v.textContent + '/' + f.textContent;
      if (text === last) return;
      last = text;
      window.__benchShown(text, performance.timeOrigin + performance.now());
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  });
  // LIVE_TRACE: when the page's stream delivers an event, when its fetch starts, answers, ends.
  if (TRACE)
    await tab.addInitScript(() => {
      const at = () => performance.timeOrigin + performance.now();
      const stages = (window.__benchStages = []);
      const ES = window.EventSource;
      window.EventSource = class extends ES {
        constructor(...args) {
          super(...args);
          this.addEventListener('reload', () => stages.push(['event', at()]));
        }
      };
      const fetch = window.fetch;
      window.fetch = function (...args) {
        stages.push(['fetch', at()]);
        return fetch.apply(this, args).then((res) => {
          stages.push(['headers', at()]);
          const text = res.text.bind(res);
          res.text = () => text().then((t) => (stages.push(['body', at()]), t));
          return res;
        });
      };
    });
  const shown = (want, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} not shown after 10 s`)), 10_000);
      waiting = {
        want,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
    });
  return { tab, shown };
}

/**
 * A server in `mode` on its own copy of the site, a tab on its page (with text
 * typed into its form); `edit(i)` saves edit i (odd: the page, even: its module)
 * and resolves with the time from the write to the new text in the DOM.
 */
async function startMode(mode, label = mode, create = createServer) {
  const root = path.join(parent, label.replace(/\W/g, '_'));
  fs.mkdirSync(path.join(root, '_lib'), { recursive: true });
  fs.writeFileSync(path.join(root, 'page.ts'), page('p-start'));
  fs.writeFileSync(path.join(root, '_lib', 'footer.ts'), footer('f-start'));
  fs.writeFileSync(path.join(root, 'style.css'), 'body { font-family: sans-serif }\n');
  const server = await create({ root, port: 0, host: '127.0.0.1', quiet: true, live: mode });
  const { tab, shown: shownText } = await instrumentedTab();
  await tab.goto(server.url + '/page');
  await tab.fill('#name', 'typed by the user');
  let p = 'p-start';
  let f = 'f-start';
  return {
    mode,
    label,
    times: [],
    async edit(i) {
      let file, text;
      if (i % 2 !== 0) [file, text] = [path.join(root, 'page.ts'), page((p = `p${i}`))];
      else [file, text] = [path.join(root, '_lib', 'footer.ts'), footer((f = `f${i}`))];
      const shown = shownText(`${p}/${f}`, `${label} edit ${i}`);
      serverStages = [];
      const t0 = now();
      fs.writeFileSync(file, text);
      const t = (await shown) - t0;
      if (TRACE) {
        const browserStages = await tab.evaluate(() => window.__benchStages.splice(0));
        const all = [...serverStages, ...browserStages].map(([s, at]) => [s, at - t0]).sort((a, b) => a[1] - b[1]);
        all.push(['dom', t]);
        this.stages.push(all);
      }
      return t;
    },
    stages: [],
    kept: () => tab.inputValue('#name'),
    async sizes() {
      const script = await tab.evaluate(() => document.querySelector('script[data-karrigell-live]').outerHTML);
      const url = /import\('([^']+)'\)/.exec(script)[1];
      const res = await fetch(server.url + url);
      const code = await res.text();
      return { script: Buffer.byteLength(script), scriptGz: gzipSize(script), module: Buffer.byteLength(code), moduleGz: gzipSize(code), cache: res.headers.get('cache-control') };
    },
    async close() {
      await tab.close();
      await server.close(500);
    },
  };
}

try {
  // Both modes in one run, their edits interleaved: each sees the same load of the machine.
  const modes = [await startMode('in-place'), await startMode('full')];
  if (COMPARE) modes.push(await startMode('in-place', 'compared', (await import(path.resolve(COMPARE))).createServer));
  await new Promise((r) => setTimeout(r, 500));
  // The first edits warm up the servers and the browser (and load the update module): not counted.
  for (let i = 1 - WARMUP; i <= EDITS; i++) {
    const line = new Array(modes.length);
    // Each round starts with another tab: none always follows the same one (and whatever that
    // one's server still does after its edit: its type check, 150 ms later, on a worker thread).
    for (let k = 0; k < modes.length; k++) {
      const j = (k + i - 1 + WARMUP * modes.length) % modes.length;
      const m = modes[j];
      const t = await m.edit(i);
      if (i >= 1) m.times.push(t);
      line[j] = `${m.label} ${t.toFixed(1).padStart(6)} ms`;
      await new Promise((r) => setTimeout(r, PAUSE));
    }
    if (i >= 1) console.log(`edit ${String(i).padStart(2)} (${i % 2 ? 'page  ' : 'module'}): ${line.join('   ')}`);
  }
  const [inPlace, full, compared] = modes;
  if (TRACE) printStages(inPlace.stages.slice(WARMUP));
  const keptIn = await inPlace.kept();
  const keptFull = await full.kept();
  const sizes = await inPlace.sizes();
  const keptCompared = compared && (await compared.kept());
  for (const m of modes) await m.close();
  const floor = stats(await measureFloor('reload'));
  const floorInPlace = stats(await measureFloor('in-place'));
  const a = stats(inPlace.times);
  const b = stats(full.times);
  const line = (s) => `median ${s.median.toFixed(1)} ms   p95 ${s.p95.toFixed(1)} ms   min ${s.min.toFixed(1)} ms   max ${s.max.toFixed(1)} ms`;
  console.log(`\nfile write → new content in the DOM of the open page (Chromium, ${EDITS} edits each, interleaved, load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end, sites in ${siteParent}):`);
  console.log(`  --live in-place  ${line(a)}   typed text kept: ${keptIn === 'typed by the user' ? 'yes' : 'NO'}`);
  console.log(`  --live full      ${line(b)}   typed text kept: ${keptFull === 'typed by the user' ? 'yes' : 'no (a reload)'}`);
  if (compared) {
    const c = stats(compared.times);
    console.log(`  compared build   ${line(c)}   typed text kept: ${keptCompared === 'typed by the user' ? 'yes' : 'NO'}   (${COMPARE})`);
    console.log(`  in place / compared build: median ${(a.median / c.median).toFixed(2)}, p95 ${(a.p95 / c.p95).toFixed(2)}`);
  }
  console.log(`  goal in place: median ≤ 30 ms, p95 ≤ 60 ms → ${a.median <= 30 && a.p95 <= 60 ? 'met' : 'NOT met'}; in place / full: median ${(a.median / b.median).toFixed(2)}, p95 ${(a.p95 / b.p95).toFixed(2)}`);
  console.log(`floor, reload (a bare node:http server tells the browser to reload a static page): ${line(floor)}`);
  console.log(`floor, in place (a bare node:http server tells the page to fetch itself and swap the text in): ${line(floorInPlace)}`);
  console.log(`injected script: ${sizes.script} bytes (${sizes.scriptGz} gzipped) per HTML page`);
  console.log(`update module (idiomorph + ours, minified): ${sizes.module} bytes (${sizes.moduleGz} gzipped), fetched at the first change only, cache-control: ${sizes.cache}`);
} finally {
  await browser.close();
  fs.rmSync(parent, { recursive: true, force: true });
}

/** Each edit's stages (ms after the write), then the median of each stage's first time. */
function printStages(edits) {
  console.log('\nin place, stages (ms after the write; first time each):');
  const firsts = new Map();
  for (const [i, stages] of edits.entries()) {
    console.log(`  edit ${String(i + 1).padStart(2)}: ` + stages.map(([s, t]) => `${s} ${t.toFixed(1)}`).join(', '));
    const seen = new Set();
    for (const [s, t] of stages) {
      if (seen.has(s)) continue;
      seen.add(s);
      if (!firsts.has(s)) firsts.set(s, []);
      firsts.get(s).push(t);
    }
  }
  console.log('  medians: ' + [...firsts].map(([s, ts]) => [s, stats(ts).median]).sort((a, b) => a[1] - b[1]).map(([s, m]) => `${s} ${m.toFixed(1)}`).join(', '));
}

function gzipSize(text) {
  return zlib.gzipSync(text).length;
}

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { median: pick(0.5), p95: pick(0.95), min: sorted[0], max: sorted[sorted.length - 1] };
}

/**
 * The same measurement against a bare node:http server that only sends events
 * (what the browser alone costs): `reload`, the page reloads; `in-place`, the
 * page fetches itself and swaps the new text in (no server work, no morph library).
 */
async function measureFloor(kind = 'reload') {
  let n = 'start';
  let stream;
  let connected;
  const ready = () => new Promise((r) => (connected = r));
  let streamReady = ready();
  const bare = http.createServer((req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('\n');
      stream = res;
      connected();
      return;
    }
    const client =
      kind === 'reload'
        ? `var es = new EventSource('/events'); es.addEventListener('reload', function () { es.close(); location.reload(); });`
        : `var es = new EventSource('/events'); es.addEventListener('reload', function () { fetch(location.href, { cache: 'no-store' }).then(function (r) { return r.text(); }).then(function (t) {` +
          ` var d = new DOMParser().parseFromString(t, 'text/html'); document.getElementById('v').replaceWith(d.getElementById('v')); }); });`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1 id="v">p${n}</h1><footer id="f">f</footer>` +
      `<script>${client}</script></body></html>`);
  });
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const { tab, shown: shownText } = await instrumentedTab();
  await tab.goto(`http://127.0.0.1:${bare.address().port}/`);
  await new Promise((r) => setTimeout(r, 500));
  const times = [];
  for (let i = 1 - WARMUP; i <= EDITS; i++) {
    // After a reload, the new page's stream (an event sent before it connects would be lost).
    await streamReady;
    if (kind === 'reload') streamReady = ready();
    n = i;
    const shown = shownText(`p${i}/f`, `${kind} floor ${i}`);
    const t0 = now();
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
