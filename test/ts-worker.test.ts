/**
 * The one TypeScript worker (issue 16): the `.tsx` statement pass and the
 * type banner's checker run on the same worker thread (one copy of
 * TypeScript), whose heap is bounded, which stops when idle and comes back
 * on the next job, and whose failures are clear errors while the server goes on.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { PROJECT, sleep, startServer, tempSite, type Running } from './helpers.js';
import { expectServerErrors } from './setup.js';

expectServerErrors(/^Script stuck\.ts stopped after 1 s \(--timeout\)/);

const tsWorker = (await import(path.join(PROJECT, 'dist', 'syntax', 'ts-worker.js'))) as {
  runTsJob<T>(job: string, input: unknown, options?: { idleMs?: number }): Promise<T>;
  releaseTsWorker(): Promise<void>;
  tsWorkerGeneration(): number | undefined;
  HEAP_MB: number;
};
const { printTopLevelJsxOffThread } = (await import(path.join(PROJECT, 'dist', 'syntax', 'tsx-statements.js'))) as {
  printTopLevelJsxOffThread(source: string, fileName: string): Promise<string>;
};

/** Threads of this process (a test file runs in its own process: vitest's forks pool). */
const threads = (): number => fs.readdirSync('/proc/self/task').length;
const NAVIGATION = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', accept: 'text/html' };
const BANNER = 'id="kts-type-errors"';

/** Waits (bounded) until `done()`. */
async function until(done: () => boolean, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(50);
  return done();
}

/** A job module of the test's own: what a job of typecheck/ is to the worker. */
const jobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-ts-job-'));
const JOB = pathToFileURL(path.join(jobDir, 'job.mjs')).href;
fs.writeFileSync(
  path.join(jobDir, 'job.mjs'),
  `import v8 from 'node:v8';
import { createRequire } from 'node:module';
export function run(input) {
  if (input === 'limit') return v8.getHeapStatistics().heap_size_limit;
  if (input === 'typescript') return createRequire(${JSON.stringify(path.join(PROJECT, 'package.json'))})('typescript').version;
  if (input === 'throw') throw new Error('the job failed on purpose');
  if (input === 'exit') process.exit(3);
  return input;
}
`,
);

const servers: Running[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  await tsWorker.releaseTsWorker();
  fs.rmSync(jobDir, { recursive: true, force: true });
});

describe('the TypeScript worker', () => {
  it('is one worker thread for the timeout watchdog, the .tsx pass and the type banner', async () => {
    const root = tempSite({
      // In another folder: a first visit compiles the pages beside it ahead (a .tsx one on the worker).
      'other/plain.ts': 'print("<!doctype html><p>plain</p>");\n',
      'page.tsx': 'const n: number = "two";\n<main>{n}</main>\n',
      'stuck.ts': 'while (true) {}\n',
    });
    const server = await startServer(root, { timeout: 1 });
    servers.push(server);
    await (await fetch(server.url + '/other/plain')).text(); // the server's own threads (the watchdog's …) are up
    await sleep(500);
    expect(tsWorker.tsWorkerGeneration()).toBeUndefined(); // a thread with the watchdog only
    const before = threads();
    const first = await (await fetch(server.url + '/page', { headers: NAVIGATION })).text();
    expect(first).toContain('<main>two</main>'); // the .tsx pass ran on the worker
    const generation = tsWorker.tsWorkerGeneration();
    expect(generation).toBeDefined();
    expect(threads()).toBe(before); // the watchdog's thread
    // The banner's check runs on the same worker: no other thread, no other start.
    let body = '';
    const deadline = Date.now() + 40_000;
    while (!body.includes(BANNER) && Date.now() < deadline) {
      body = await (await fetch(server.url + '/page', { headers: NAVIGATION })).text();
      await sleep(150);
    }
    expect(body).toContain('page.tsx:1:7');
    expect(tsWorker.tsWorkerGeneration()).toBe(generation);
    expect(threads()).toBe(before);
    // The job modules share the worker's one TypeScript.
    expect(await tsWorker.runTsJob(JOB, 'typescript')).toMatch(/^\d+\.\d+/);
    expect(tsWorker.tsWorkerGeneration()).toBe(generation);
    // Released (idle), the worker is replaced by a fresh thread for the watchdog, which still stops a stuck page.
    await tsWorker.releaseTsWorker();
    expect(tsWorker.tsWorkerGeneration()).toBeUndefined();
    expect(await until(() => threads() === before, 5_000)).toBe(true);
    const t0 = Date.now();
    const stuck = await fetch(server.url + '/stuck');
    expect(stuck.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await (await fetch(server.url + '/other/plain')).text()).toContain('plain');
    await server.close();
    servers.pop();
    // Its last resident gone, with no job: the thread goes too.
    expect(await until(() => threads() === before - 1, 5_000)).toBe(true);
  }, 60_000);

  it('has a bounded heap', async () => {
    const limit = await tsWorker.runTsJob<number>(JOB, 'limit');
    // The old generation's bound plus the young generation's: far below the process's own (GBs).
    expect(limit).toBeLessThanOrEqual((tsWorker.HEAP_MB + 64) * 1024 * 1024);
    expect(limit).toBeGreaterThanOrEqual(tsWorker.HEAP_MB * 1024 * 1024);
  });

  it('stops once idle and comes back on the next job', async () => {
    await tsWorker.releaseTsWorker();
    await sleep(200);
    const none = threads();
    expect(await tsWorker.runTsJob(JOB, 'a', { idleMs: 300 })).toBe('a');
    const generation = tsWorker.tsWorkerGeneration()!;
    expect(generation).toBeDefined();
    expect(threads()).toBe(none + 1);
    expect(await until(() => tsWorker.tsWorkerGeneration() === undefined, 10_000)).toBe(true);
    expect(await until(() => threads() === none, 5_000)).toBe(true);
    // The next job starts another, and the .tsx pass works on it.
    expect(await printTopLevelJsxOffThread('<p>back</p>\n', 'back.tsx')).toBe('print(<p>back</p>)\n');
    expect(tsWorker.tsWorkerGeneration()).toBe(generation + 1);
    // A job keeps it for the idle time it asks: 30 s by default, so it is still there.
    await sleep(600);
    expect(tsWorker.tsWorkerGeneration()).toBe(generation + 1);
  }, 30_000);

  it('loads TypeScript from a code cache and a minified copy it keeps in the cache folder; a damaged one is made again', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-cache-'));
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = home; // read by each new worker
    const folder = path.join(home, 'karrigell-ts');
    const cacheFiles = (): string[] => (fs.existsSync(folder) ? fs.readdirSync(folder).filter((n) => n.endsWith('.v8cache')) : []);
    type Load = { version: string; loadedBy: string };
    try {
      await tsWorker.releaseTsWorker();
      const first = await tsWorker.runTsJob<Load>('typescript', null);
      expect(first.loadedBy).toBe('new cache');
      // Written once the queue is empty, whole (a temporary file renamed).
      expect(await until(() => cacheFiles().length === 1, 10_000)).toBe(true);
      expect(cacheFiles()[0]).toMatch(new RegExp(`^typescript-${first.version.replace(/\./g, '\\.')}-\\d+-\\d+\\.v8cache$`));
      await sleep(200);
      await tsWorker.releaseTsWorker();
      const second = await tsWorker.runTsJob<Load>('typescript', null);
      expect(second).toEqual({ version: first.version, loadedBy: 'cache' });
      expect(await printTopLevelJsxOffThread('<p>cached</p>\n', 'c.tsx')).toBe('print(<p>cached</p>)\n');
      await tsWorker.releaseTsWorker();
      fs.writeFileSync(path.join(folder, cacheFiles()[0]!), 'not a code cache');
      const third = await tsWorker.runTsJob<Load>('typescript', null);
      expect(third.loadedBy).toBe('new cache'); // V8 rejected it: compiled as usual
      expect(await printTopLevelJsxOffThread('<p>again</p>\n', 'd.tsx')).toBe('print(<p>again</p>)\n');
      expect(await until(() => fs.statSync(path.join(folder, cacheFiles()[0]!)).size > 1000, 10_000)).toBe(true);
      // What V8 compiles (and keeps in the worker's heap) is a minified copy of typescript.js, kept beside.
      const minified = (): string[] => fs.readdirSync(folder).filter((n) => n.endsWith('.min.js'));
      const typescriptJs = createRequire(path.join(PROJECT, 'package.json')).resolve('typescript');
      expect(minified()).toEqual([`typescript-${first.version}-${fs.statSync(typescriptJs).size}.min.js`]);
      expect(fs.statSync(path.join(folder, minified()[0]!)).size).toBeLessThan(fs.statSync(typescriptJs).size / 2);
      // A damaged copy: TypeScript is loaded as usual meanwhile, and the next start makes another.
      await sleep(200);
      await tsWorker.releaseTsWorker();
      fs.writeFileSync(path.join(folder, minified()[0]!), 'this is not ( JavaScript');
      const fourth = await tsWorker.runTsJob<Load>('typescript', null);
      expect(fourth).toEqual({ version: first.version, loadedBy: 'require' });
      expect(await printTopLevelJsxOffThread('<p>plain</p>\n', 'e.tsx')).toBe('print(<p>plain</p>)\n');
      await tsWorker.releaseTsWorker();
      const fifth = await tsWorker.runTsJob<Load>('typescript', null);
      expect(fifth).toEqual({ version: first.version, loadedBy: 'cache' });
      expect(fs.statSync(path.join(folder, minified()[0]!)).size).toBeGreaterThan(1_000_000);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
      await sleep(200);
      await tsWorker.releaseTsWorker();
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);

  it('reports a failed job, and a stopped worker, as errors; the next job works', async () => {
    await expect(tsWorker.runTsJob(JOB, 'throw')).rejects.toThrow('the job failed on purpose');
    // A worker that dies under its jobs fails them (a .tsx pass queued behind is run again on a new one).
    const generation = tsWorker.tsWorkerGeneration();
    const dying = tsWorker.runTsJob(JOB, 'exit');
    const tsx = printTopLevelJsxOffThread('<h1>again</h1>;\n', 'again.tsx');
    await expect(dying).rejects.toMatchObject({ workerStopped: true });
    expect(await tsx).toBe('print(<h1>again</h1>);\n');
    expect(tsWorker.tsWorkerGeneration()).not.toBe(generation);
    expect(await tsWorker.runTsJob(JOB, 'fine')).toBe('fine');
  });
});
