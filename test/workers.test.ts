/**
 * --workers N (SPEC §8) with the Redis session store: N processes on one port
 * sharing sessions, one banner, a killed worker replaced, SIGTERM → graceful
 * stop and exit 0, start errors on one line.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { isAlive, tempSite, spawnCli, runCli, rawRequest, sleep, type CliProcess } from './helpers.js';
import { startRedis, freePort, SKIP_REDIS, type RedisServer } from './redis-server.js';

const SITE = {
  'pid.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nconst so = Session();\nso.n = ((so.n as number | undefined) ?? 0) + 1;\nprint(`${process.pid} ${so.n}`);\n',
  'slow.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nawait new Promise((r) => setTimeout(r, Number(QUERY.ms ?? 800)));\nprint(`slow done ${process.pid}`);\n',
};

let redis: RedisServer;
let root: string;
const running: CliProcess[] = [];

/** GET on a new connection (so the cluster may hand it to any worker), with the session cookie. */
async function hit(url: string, path: string, jar: { id?: string }): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (jar.id) headers.cookie = `sessionId=${jar.id}`;
  const r = await rawRequest(url, path, { headers });
  const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
  for (const c of set) {
    const m = /^sessionId=([^;]*)/.exec(c);
    if (m) jar.id = m[1] || undefined;
  }
  return { status: r.status, text: r.text };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}


async function serveWorkers(...extra: string[]): Promise<CliProcess> {
  const p = await spawnCli(['serve', root, '--workers', '2', '--session-store', redis.url, '--port', '0', '--quiet', ...extra]);
  running.push(p);
  return p;
}

/** Requests /pid on new connections until `want` distinct pids answered (bounded); returns pid → count of answers. */
async function collectPids(url: string, jar: { id?: string }, want: number, max = 60): Promise<{ pids: Set<number>; counts: number[] }> {
  const pids = new Set<number>();
  const counts: number[] = [];
  for (let i = 0; i < max && pids.size < want; i++) {
    const r = await hit(url, '/pid', jar);
    expect(r.status).toBe(200);
    const [pid, n] = r.text.trim().split(' ').map(Number);
    pids.add(pid!);
    counts.push(n!);
  }
  return { pids, counts };
}

describe.skipIf(SKIP_REDIS)('--workers with the Redis session store', () => {
  beforeAll(async () => {
    redis = await startRedis();
    root = tempSite(SITE);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('N workers share one port, print one banner with the real port, and serve the same session', async () => {
    const p = await serveWorkers('--production');
    const port = Number(new URL(p.url).port);
    expect(port).toBeGreaterThan(0);
    const banner = p.stdout().split('\n').filter((l) => l.includes(p.url));
    expect(banner).toHaveLength(1);
    expect(banner[0]).toMatch(/2 workers/);
    expect(banner[0]).toMatch(/production/);
    const jar: { id?: string } = {};
    const { pids, counts } = await collectPids(p.url, jar, 2);
    expect(pids.size, 'both workers answered').toBe(2);
    expect(pids.has(p.child.pid!)).toBe(false); // the primary serves nothing itself
    // One session across both processes: the counter went 1, 2, 3 … whoever answered.
    expect(counts).toEqual(counts.map((_, i) => i + 1));
  });

  it('replaces a killed worker, and the session goes on', { timeout: 45_000 }, async () => {
    const p = await serveWorkers('--production');
    const jar: { id?: string } = {};
    const first = await collectPids(p.url, jar, 2);
    expect(first.pids.size).toBe(2);
    const [victim, survivor] = [...first.pids];
    process.kill(victim!, 'SIGKILL');
    const line = await waitForStderr(p, new RegExp(`worker ${victim}\\b.*(killed|SIGKILL).*new one`));
    expect(line).toBeTruthy();
    const seen = new Set<number>();
    let last = first.counts.at(-1)!;
    // The replacement needs a few seconds to start: ask (bounded in time) until it answers.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && ![...seen].some((x) => x !== survivor)) {
      const r = await hit(p.url, '/pid', jar).catch(() => undefined);
      if (!r || r.status !== 200) {
        await sleep(100);
        continue;
      }
      await sleep(50);
      const [pid, n] = r.text.trim().split(' ').map(Number);
      expect(pid).not.toBe(victim);
      expect(n).toBe(last + 1);
      last = n!;
      seen.add(pid!);
    }
    const replacement = [...seen].find((x) => x !== survivor);
    expect(replacement, 'a new worker answered').toBeDefined();
    expect(isAlive(victim!)).toBe(false);
  });

  it('SIGTERM to the primary lets running requests finish, stops every worker and exits 0', async () => {
    const p = await serveWorkers();
    const jar: { id?: string } = {};
    const { pids } = await collectPids(p.url, jar, 2);
    const slow = rawRequest(p.url, '/slow?ms=1000');
    await sleep(300);
    p.child.kill('SIGTERM');
    const r = await slow;
    expect(r.status).toBe(200);
    expect(r.text).toContain('slow done');
    const { code, signal } = await exitOf(p.child);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    for (const pid of pids) {
      for (let i = 0; i < 20 && isAlive(pid); i++) await sleep(50);
      expect(isAlive(pid), `worker ${pid} stopped`).toBe(false);
    }
    // No new connections after the stop.
    await expect(rawRequest(p.url, '/pid')).rejects.toThrow();
  });

  it('a port in use: one line on stderr, exit 1, no stack', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['serve', root, '--workers', '2', '--session-store', redis.url, '--port', String(port)], 20_000);
      expectOneLine(r, /port \d+ is already in use/);
    } finally {
      blocker.close();
    }
  });

  it('Redis unreachable at start: one line on stderr, exit 1, no stack', async () => {
    const port = await freePort();
    const r = await runCli(['serve', root, '--workers', '2', '--session-store', `redis://127.0.0.1:${port}`, '--port', '0'], 20_000);
    expectOneLine(r, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });
});

function expectOneLine(r: { code: number | null; stdout: string; stderr: string; timedOut: boolean }, mention: RegExp): void {
  expect(r.timedOut, 'the CLI should exit by itself').toBe(false);
  expect(r.code).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr: ${JSON.stringify(r.stderr)}`).toHaveLength(1);
  expect(lines[0]).toMatch(mention);
  expect(r.stderr).not.toContain('    at ');
  expect(r.stdout).not.toMatch(/https?:\/\//);
}

async function waitForStderr(p: CliProcess, re: RegExp, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = re.exec(p.stderr());
    if (m) return m[0];
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${re} on stderr: ${JSON.stringify(p.stderr())}`);
}
