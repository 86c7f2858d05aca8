/**
 * Memory stays bounded on the Node running the suite (CI runs it on 20, 22
 * and 24): a production server with --max-sessions 1000 grows by less than
 * 80 MB of RSS over 20 000 new sessions of 8 KB each. Node 24 grew by 180 MB
 * before the server bounded its heap's garbage (src/heap.ts). The figures come
 * from `npm run bench:memory` (bench/memory.js), run here for this Node.
 */
import { it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { CLI, PROJECT, sleep, tempSite } from './helpers.js';

function benchMemory(only: string): Promise<Record<string, number | string>> {
  const child = spawn(process.execPath, [path.join(PROJECT, 'bench', 'memory.js')], {
    cwd: PROJECT,
    env: { ...process.env, BENCH_ONLY: only, BENCH_JSON: '1', BENCH_NODES: process.execPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`bench/memory.js exited ${code}: ${err}`)))),
  );
}

it('20 000 new 8 KB sessions with --max-sessions 1000: RSS grows by less than 80 MB', async () => {
  const r = (await benchMemory('sessions')) as { node: string; before: number; after: number; count: number };
  console.log(`memory bounds (${r.node}): RSS ${r.before.toFixed(1)} MB → ${r.after.toFixed(1)} MB over ${r.count} new sessions`);
  expect(r.count).toBe(20_000);
  expect(r.after - r.before).toBeLessThan(80);
}, 120_000);

/**
 * Runs SCRIPT (an ES module) in a new Node process: the heap bound is per
 * process. Resolves with the JSON object it prints last.
 */
function inNewProcess(script: string, args: string[] = []): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [...args, '--input-type=module', '-e', script], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`exited ${code}: ${err}`)))),
  );
}

it('the young generation stays at its bound after a worker thread starts (V8 resets the growth factor for each new isolate)', async () => {
  // Data that survives, in batches with a turn of the event loop between (as requests come),
  // to the bound, then a Worker, then as much again. Before: 16 → 32 MB on Node 20 and 22.
  // Batches of about 1 MB: heap.ts learns of each collection from a PerformanceObserver,
  // after the batch; a batch big enough for two scavenges could grow the young generation
  // one step past the bound before it is told (this failed in full suites on a busy machine).
  // The size is the smallest of the last 50 batches': on Node 24, new_space's size also
  // overshoots for a moment while a scavenge is pending (16.25, 16.75 … 37.75 MB, back to 16
  // at the next one), and a single sample once read 20.5 MB in CI. The bug keeps the young
  // generation's capacity doubled, so every sample after it is at least 32 MB.
  const r = (await inNewProcess(`
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    const { boundHeap } = await import(${JSON.stringify(path.join(PROJECT, 'dist', 'heap.js'))});
    boundHeap();
    const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    const keep = [];
    const survive = async (batches) => {
      let least = Infinity;
      for (let r = 0; r < batches; r++) {
        for (let i = 0; i < 1e4; i++) keep.push({ i, s: 'x' + i });
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (r >= batches - 50) least = Math.min(least, young());
      }
      return least;
    };
    const before = await survive(100);
    const worker = new Worker('setTimeout(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    const after = await survive(200);
    console.log(JSON.stringify({ before, after }));
    await worker.terminate();
  `)) as { before: number; after: number };
  expect(r.after).toBeLessThanOrEqual(Math.max(r.before, 16));
}, 60_000);

/**
 * Starts `node [flags] karrigell-ts serve SITE` in development, loads PAGE as a
 * browser does (the type banner's check runs on the TypeScript worker), waits
 * for the check, and returns what V8 printed under --trace-opt.
 */
async function optimisationTrace(flags: string[]): Promise<string> {
  const root = tempSite({ 'page.ts': 'const n: number = "two";\nprint(`<p>${n}</p>`);\n' });
  const child = spawn(process.execPath, ['--trace-opt', ...flags, CLI, 'serve', root, '--port', '0', '--quiet'], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const deadline = Date.now() + 20_000;
    while (!/http:\/\/127\.0\.0\.1:\d+/.test(out) && Date.now() < deadline) await sleep(50);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)![0];
    const navigation = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', accept: 'text/html' };
    // The banner shows the check's result on the next load once it is done.
    while (!(await (await fetch(url + '/page', { headers: navigation })).text()).includes('kts-type-errors') && Date.now() < deadline) await sleep(200);
    return out;
  } finally {
    child.kill('SIGKILL');
  }
}

it('development: the TypeScript worker optimises on its own thread (no optimising-compiler arenas of other threads); a flag given wins', async () => {
  // V8's trace of each optimisation names its mode: the worker's are synchronous, on its thread.
  const development = await optimisationTrace([]);
  expect(development).toContain('ConcurrencyMode::kSynchronous');
  // Given by the user, V8's default (background compilers for every isolate) stays.
  const given = await optimisationTrace(['--concurrent-recompilation']);
  expect(given).toMatch(/ConcurrencyMode::kConcurrent/);
  expect(given).not.toContain('ConcurrencyMode::kSynchronous');
}, 60_000);
