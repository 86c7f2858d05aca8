/**
 * Issue 8 — load: 500 concurrent keep-alive connections on a session page for
 * 10 s (127.0.0.1 only, bounded in time). Every response is correct: each
 * connection keeps its own cookie and sees its own counter go up by exactly
 * one per request. The server runs in a child process with --expose-gc and
 * reports its memory, which must come back to its level afterwards.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { tempSite } from './helpers.js';
import { startChildServer, MEMORY_PAGE, type ChildMemory } from './attack-helpers.js';

const CLIENTS = 500;
const LOAD_MS = Number(process.env.HARDENING_LOAD_MS ?? 10_000);
const MB = 1024 * 1024;

let server: Awaited<ReturnType<typeof startChildServer>>;

beforeAll(async () => {
  const root = tempSite({
    'counter.ts': `RESPONSE.headers['content-type'] = 'text/plain';\nconst so = Session();\nso.n = ((so.n as number | undefined) ?? 0) + 1;\nso.history = [...((so.history as number[] | undefined) ?? []).slice(-4), so.n];\nprint(String(so.n));\n`,
    'memory.ts': MEMORY_PAGE,
    'index.html': '<p>home</p>\n',
  });
  server = await startChildServer([root, '--production', '--max-sessions', String(CLIENTS * 4)]);
}, 30_000);

afterAll(async () => {
  await server?.kill();
});

interface Client {
  agent: http.Agent;
  cookie?: string;
  n: number;
  sockets: number;
}

/** One GET /counter on the client's own keep-alive agent. */
function hit(port: number, c: Client): Promise<{ status: number; body: string; setCookie?: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/counter', agent: c.agent, headers: c.cookie ? { cookie: c.cookie } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie']?.find((s) => s.startsWith('sessionId=')), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

describe('load: 500 concurrent keep-alive connections on a session page', () => {
  it(`every response is right for ${LOAD_MS / 1000} s, and memory comes back to its level`, async () => {
    const port = server.port;
    const clients: Client[] = Array.from({ length: CLIENTS }, () => {
      const c: Client = { agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), n: 0, sockets: 0 };
      return c;
    });
    const errors: string[] = [];
    const check = (c: Client, i: number, r: Awaited<ReturnType<typeof hit>>): void => {
      if (r.status !== 200) errors.push(`client ${i}: status ${r.status}`);
      else if (Number(r.body) !== c.n + 1) errors.push(`client ${i}: expected counter ${c.n + 1}, got ${JSON.stringify(r.body)}`);
      if (c.n === 0) {
        if (!r.setCookie) errors.push(`client ${i}: no session cookie on the first answer`);
        else c.cookie = r.setCookie.split(';')[0];
      } else if (r.setCookie) errors.push(`client ${i}: a new session cookie on request ${c.n + 1} (its session was lost)`);
      if (!r.reused) c.sockets++;
      c.n++;
    };

    // Warm-up: every client opens its connection and its session; then the baseline.
    await Promise.all(clients.map(async (c, i) => check(c, i, await hit(port, c))));
    expect(errors.slice(0, 10)).toEqual([]);
    const before: ChildMemory = await server.memory();
    expect(before.gc, 'the server runs with --expose-gc').toBe(true);

    // The load: each client sends its next request as soon as the last one is answered.
    const until = Date.now() + LOAD_MS;
    let total = 0;
    await Promise.all(
      clients.map(async (c, i) => {
        while (Date.now() < until && errors.length < 50) {
          try {
            check(c, i, await hit(port, c));
            total++;
          } catch (err) {
            errors.push(`client ${i}: ${(err as Error).message}`);
            return;
          }
        }
      }),
    );
    expect(errors.slice(0, 10), `${errors.length} wrong answers`).toEqual([]);
    // Every client made progress, and kept its one connection (keep-alive) all along.
    const counts = clients.map((c) => c.n);
    expect(Math.min(...counts), 'requests of the slowest client').toBeGreaterThanOrEqual(3);
    const reconnects = clients.reduce((s, c) => s + c.sockets, 0) - CLIENTS;
    expect(reconnects, 'connections opened beyond one per client').toBeLessThanOrEqual(CLIENTS * 0.05);
    expect(total).toBeGreaterThan(CLIENTS * 3);

    // Memory back to its level: same sessions, the connections closed, after a full GC.
    for (const c of clients) c.agent.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const after: ChildMemory = await server.memory();
    const heapGrowth = after.heapUsed - before.heapUsed;
    expect(heapGrowth, `heap ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB after ${total} requests`).toBeLessThan(16 * MB);
    expect(after.rss - before.rss, `rss ${(before.rss / MB).toFixed(0)} → ${(after.rss / MB).toFixed(0)} MB`).toBeLessThan(160 * MB);
    expect(after.fds, `fds ${before.fds} → ${after.fds}`).toBeLessThanOrEqual(before.fds);
    // Each session saw exactly its own requests.
    for (const [i, c] of clients.entries()) {
      const last = await hit(port, { ...c, agent: new http.Agent({ keepAlive: false }) });
      if (Number(last.body) !== c.n + 1) errors.push(`client ${i}: final counter ${last.body}, expected ${c.n + 1}`);
      if (i >= 20) break;
    }
    expect(errors).toEqual([]);
    console.info(`load: ${total} requests in ${LOAD_MS} ms by ${CLIENTS} keep-alive connections; heap ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB, rss ${(before.rss / MB).toFixed(0)} → ${(after.rss / MB).toFixed(0)} MB`);
  }, LOAD_MS + 40_000);
});
