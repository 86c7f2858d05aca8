/**
 * Issue 17 — a page cannot stop the server. `process.exit()`, `abort()`,
 * `reallyExit()` and `kill()` of the server's own process, called by a page or
 * a site module (directly, through `globalThis`, an import of `node:process`,
 * or handed to a timer), are refused with an error naming the script: the
 * request answers 500 and the server goes on. And in production a page that
 * allocates without bound kills only a worker: the primary starts another
 * and the site answers again. Servers run as CLI child processes (a guard that
 * failed would end the test runner otherwise).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { tempSite, spawnCli, sleep, startServer, type CliProcess } from './helpers.js';

const SITE = {
  'hello.ts': "print('hello');\n",
  'exit.ts': "print('before');\nprocess.exit(0);\nprint('after');\n",
  'exit-code.ts': 'process.exit(1);\n',
  'abort.ts': 'process.abort();\n',
  'really.ts': '(process as unknown as { reallyExit(code: number): void }).reallyExit(0);\n',
  'kill.ts': "process.kill(process.pid, String(QUERY.signal ?? 'SIGTERM'));\n",
  'kill-parent.ts': "process.kill(process.ppid, 'SIGTERM');\n",
  'global.ts': 'globalThis.process.exit(0);\n',
  'imported.ts': "import proc from 'node:process';\nproc.exit(0);\n",
  'named.ts': "import { exit } from 'node:process';\nexit(0);\n",
  'timer.ts': "setTimeout(process.exit, 0);\nsetTimeout(() => globalThis.process.exit(0), 0);\nprint('timers set');\n",
  'module.ts': "import { stop } from './_lib/stop.ts';\nstop();\n",
  '_lib/stop.ts': 'export function stop(): void {\n  process.exit(0);\n}\n',
  // The view a page gets is the real process for everything else.
  'listeners.ts': [
    "RESPONSE.headers['content-type'] = 'application/json';",
    'const onWarn = () => {};',
    "process.on('warning', onWarn);",
    "const listening = process.listenerCount('warning') > 0;",
    "process.off('warning', onWarn);",
    'process.kill(process.pid, 0); // signal 0 only checks that the process exists… still refused: it is the server',
    '',
  ].join('\n'),
  'env.ts': "RESPONSE.headers['content-type'] = 'application/json';\nprint(JSON.stringify({ cwd: process.cwd() === globalThis.process.cwd(), env: typeof process.env.PATH, pid: process.pid === globalThis.process.pid, up: process.uptime() > 0, mem: process.memoryUsage().rss > 0, same: process.env === globalThis.process.env }));\n",
  // Big steps (8 MB each): the heap limit is crossed at once rather than approached through ever longer collections.
  'hog.ts': 'const hoard: number[][] = [];\nfor (;;) hoard.push(new Array(1_000_000).fill(Math.random()));\n',
};

/** A served site in a child process, with its stderr. */
let dev: CliProcess;
let prod: CliProcess;

beforeAll(async () => {
  const root = tempSite(SITE);
  [dev, prod] = await Promise.all([
    spawnCli(['serve', root, '--port', '0', '--quiet']),
    spawnCli(['serve', root, '--port', '0', '--quiet', '--production', '--workers', '0']),
  ]);
}, 30_000);

afterAll(async () => {
  await dev?.kill();
  await prod?.kill();
});

const alive = (cli: CliProcess): boolean => cli.child.exitCode === null && cli.child.signalCode === null;

async function stillServing(cli: CliProcess): Promise<void> {
  await sleep(100);
  expect(alive(cli), `the server stopped: ${cli.stderr().slice(-500)}`).toBe(true);
  const res = await fetch(cli.url + '/hello');
  expect(await res.text()).toBe('hello\n');
}

describe('a page cannot stop the server', () => {
  it.each([
    ['/exit', 'process.exit()', 'exit.ts'],
    ['/exit-code', 'process.exit()', 'exit-code.ts'],
    ['/abort', 'process.abort()', 'abort.ts'],
    ['/really', 'process.reallyExit()', 'really.ts'],
    ['/kill', 'process.kill(', 'kill.ts'],
    ['/kill?signal=SIGKILL', 'process.kill(', 'kill.ts'],
    ['/kill-parent', 'process.kill(', 'kill-parent.ts'],
    ['/listeners', 'process.kill(', 'listeners.ts'],
    ['/global', 'process.exit()', 'global.ts'],
    ['/imported', 'process.exit()', 'imported.ts'],
    ['/named', 'process.exit()', 'named.ts'],
    ['/module', 'process.exit()', '_lib/stop.ts'],
  ])('%s answers 500 with an error naming the script, and the server goes on', async (url, what, script) => {
    const res = await fetch(dev.url + url);
    const page = await res.text();
    expect(res.status, page.slice(0, 300)).toBe(500);
    expect(page).toContain(`${what}`);
    expect(page).toContain('is refused: a page cannot stop the server');
    expect(page).toContain(`called by ${script}`);
    await stillServing(dev);
    // Production: a plain 500, the message in the log.
    const before = prod.stderr().length;
    const plain = await fetch(prod.url + url);
    expect(plain.status).toBe(500);
    expect(await plain.text()).not.toContain('is refused');
    await sleep(50);
    expect(prod.stderr().slice(before)).toContain(`called by ${script}`);
    await stillServing(prod);
  });

  it('process.exit handed to a timer (no page on the stack then) is refused too, and logged', async () => {
    const before = dev.stderr().length;
    const res = await fetch(dev.url + '/timer');
    expect(await res.text()).toBe('timers set\n');
    await stillServing(dev);
    const log = dev.stderr().slice(before);
    expect(log).toContain('process.exit() is refused');
    expect(log).toContain('called by timer.ts');
  });

  it('everything else of process works as usual in a page', async () => {
    const res = await fetch(dev.url + '/env');
    expect(await res.json()).toEqual({ cwd: true, env: 'string', pid: true, up: true, mem: true, same: true });
  });
});

describe('the guard leaves the application alone', () => {
  it('calls that do not come from a site script go through; the methods are restored on close', async () => {
    const exit = process.exit;
    const kill = process.kill;
    const server = await startServer(tempSite({ 'hello.ts': "print('hello');\n" }), { production: true });
    try {
      expect(process.exit).not.toBe(exit); // wrapped while a server runs
      expect(process.kill(process.pid, 0)).toBe(true); // the application's own call
    } finally {
      await server.close();
    }
    expect(process.exit).toBe(exit);
    expect(process.kill).toBe(kill);
  });
});

/** The cluster workers among the child processes of `pid` (Linux; esbuild's service is a child too). */
function childrenOf(pid: number): number[] {
  const text = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  const children = text ? text.split(/\s+/).map(Number) : [];
  return children.filter((child) => {
    try {
      return fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('cluster.js');
    } catch {
      return false; // gone meanwhile
    }
  });
}

describe('a page out of memory in production', () => {
  it('kills only the worker: the supervising primary starts another one and the site answers again', async () => {
    const root = tempSite(SITE);
    // A small heap, so that the page runs out of it in well under a second.
    const cli = await spawnCli(['serve', root, '--port', '0', '--quiet', '--production'], { NODE_OPTIONS: '--max-old-space-size=64' });
    try {
      expect(await (await fetch(cli.url + '/hello', { signal: AbortSignal.timeout(10_000) })).text()).toBe('hello\n');
      const [worker] = childrenOf(cli.child.pid!);
      expect(worker, 'a production server runs its worker under a primary').toBeDefined();
      const hog = await fetch(cli.url + '/hog', { signal: AbortSignal.timeout(30_000) }).then(
        (r) => r.status,
        () => 'connection lost',
      );
      expect(hog, cli.stderr().slice(-1000)).toBe('connection lost');
      const t = Date.now();
      let answer = '';
      while (Date.now() - t < 20_000) {
        // A connection handed to the dying worker may never be answered: each try has its own timeout.
        answer = await fetch(cli.url + '/hello', { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
        if (answer === 'hello\n') break;
        await sleep(100);
      }
      console.log(`site answering again ${Date.now() - t} ms after the worker ran out of memory`);
      expect(answer).toBe('hello\n');
      expect(alive(cli)).toBe(true);
      expect(childrenOf(cli.child.pid!)).not.toContain(worker);
      expect(cli.stderr()).toMatch(/worker \d+ (was killed|exited with status).*starting a new one/);
    } finally {
      await cli.kill();
    }
  }, 120_000);

  it('--workers 0 runs production in one process, without the primary', async () => {
    expect(childrenOf(prod.child.pid!)).toEqual([]);
    expect(await (await fetch(prod.url + '/hello')).text()).toBe('hello\n');
  });
});
