/**
 * Issue 17 — session eviction by returning bots. 1 500 cookie-keeping bots
 * that each come back once (3 000 requests) used to evict an idle visitor
 * who had come back several times: coming back once was all "returning"
 * took. The store now counts returns (aged): over HTTP and directly on the
 * store, such a flood recycles its own sessions, the SPEC §5 order holds
 * (never-returned sessions go first, a flood of new visitors cannot push out
 * returning ones), and a count does not protect forever (it is halved as
 * traffic goes by).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { createServer } from '../dist/index.js';
import { createMemoryStore } from '../src/session/store.js';
import { tempSite } from './helpers.js';

const SITE = { 'count.ts': 'const so = Session();\nso.visits = (so.visits ?? 0) + 1;\nprint(`visits=${so.visits}`);\n' };

const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

/** A client that keeps the sessionId cookie like a browser. */
function client(base: string) {
  let cookie = '';
  return async (path: string): Promise<string> => {
    const res = await fetch(base + path, { headers: cookie ? { cookie } : {} });
    const m = /sessionId=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
    if (m) cookie = `sessionId=${m[1]}`;
    return res.text();
  };
}

describe('over HTTP', () => {
  it('1 500 bots that come back once each (3 000 requests) do not evict an idle visitor who came back', async () => {
    const server = await createServer({ root: tempSite(SITE), port: 0, host: '127.0.0.1', quiet: true, production: true }); // --max-sessions 1000
    servers.push(server);
    const visitor = client(server.url);
    for (let i = 1; i <= 4; i++) expect(await visitor('/count')).toBe(`visits=${i}\n`); // came, and came back 3 times
    const before = Date.now();
    let max = 0;
    const BOTS = 1500;
    const CONCURRENCY = 1; // each bot comes back before the next one arrives: in parallel batches, the bots of a batch evict each other (probation) first
    for (let i = 0; i < BOTS; i += CONCURRENCY) {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          const bot = client(server.url);
          expect(await bot('/count')).toBe('visits=1\n');
          await bot('/count'); // comes back once (its session may already be gone under the flood)
        }),
      );
      max = Math.max(max, server.sessions.size!);
    }
    console.log(`1 500 returning bots (3 000 requests) in ${Date.now() - before} ms`);
    expect(max).toBeLessThanOrEqual(1000);
    expect(await visitor('/count')).toBe('visits=5\n');
  }, 60_000);
});

describe('on the store', () => {
  /** The flood of the issue: every bot creates its session and comes back once. */
  function botFlood(store: ReturnType<typeof createMemoryStore<string>>, bots: number): void {
    for (let i = 0; i < bots; i++) store.get(store.create('bot'));
  }

  it('the flood of the issue: a visitor who came back twice or more stays; one who came back once is a bot to the store', () => {
    const store = createMemoryStore<string>({ maxSessions: 1000, ttlSeconds: 3600 });
    const visitors = [1, 2, 3, 5, 15].map((returns) => {
      const id = store.create(`came back ${returns}×`);
      for (let i = 0; i < returns; i++) store.get(id);
      return { id, returns };
    });
    botFlood(store, 1500);
    expect(store.size).toBe(1000);
    for (const v of visitors) {
      if (v.returns === 1) expect(store.get(v.id, true), 'came back once: as cheap as a bot').toBeUndefined();
      else expect(store.get(v.id, true), `came back ${v.returns}×`).toBe(`came back ${v.returns}×`);
    }
  });

  it('what it takes now: a visitor who came back 5 times outlives 4 500 such bots (9 000 requests), not 15 000', () => {
    const visitorAfter = (bots: number): string | undefined => {
      const store = createMemoryStore<string>({ maxSessions: 1000, ttlSeconds: 3600 });
      const id = store.create('visitor');
      for (let i = 0; i < 5; i++) store.get(id);
      botFlood(store, bots);
      expect(store.size).toBe(1000);
      return store.get(id, true);
    };
    // Periods of 10 000 operations: the count 5 is 2 in the second, 1 in the third, where the bots' LRU catches it.
    expect(visitorAfter(4500)).toBe('visitor');
    expect(visitorAfter(15_000)).toBeUndefined();
  });

  it('a count does not protect forever: it is halved every 10 × maxSessions operations', () => {
    const store = createMemoryStore<string>({ maxSessions: 100, ttlSeconds: 0 });
    const id = store.create('visitor');
    for (let i = 0; i < 15; i++) store.get(id); // the most a count holds
    botFlood(store, 100); // 200 operations of the 1 000 of a period: protected
    expect(store.get(id, true)).toBe('visitor');
    botFlood(store, 3000); // 6 000 more operations: 15 halved 6 times is 0, and then it is the LRU of equals
    expect(store.get(id, true)).toBeUndefined();
  });

  it('never-returned sessions still go first, whatever the counts', () => {
    const store = createMemoryStore<string>({ maxSessions: 3, ttlSeconds: 0 });
    const once = store.create('once');
    store.get(once); // protected, count 1
    const fresh = store.create('fresh'); // probation
    const other = store.create('other'); // probation
    store.get(other, true); // same request: still never returned
    store.create('new'); // evicts fresh, the LRU of probation, not `once` (older, but it came back)
    expect(store.get(fresh, true)).toBeUndefined();
    expect(store.get(once, true)).toBe('once');
    expect(store.get(other, true)).toBe('other');
  });

  it('a flood of new visitors (never coming back) cannot push out even a visitor who came back once', () => {
    const store = createMemoryStore<string>({ maxSessions: 50, ttlSeconds: 0 });
    const id = store.create('visitor');
    store.get(id);
    for (let i = 0; i < 100_000; i++) store.get(store.create('new'), true);
    expect(store.get(id, true)).toBe('visitor');
    expect(store.size).toBe(50);
  });

  it('when every protected session came back often, the one with the lowest count among the oldest goes', () => {
    const store = createMemoryStore<string>({ maxSessions: 4, ttlSeconds: 0 });
    const ids = [5, 3, 4, 6].map((n, i) => {
      const id = store.create(`s${i}`);
      for (let k = 0; k < n; k++) store.get(id);
      return id;
    });
    store.create('x'); // probation empty, every protected count ≥ 2: the lowest (3) goes
    expect(store.get(ids[1]!, true)).toBeUndefined();
    for (const i of [0, 2, 3]) expect(store.get(ids[i]!, true)).toBe(`s${i}`);
    expect(store.size).toBe(4);
  });

  it('second chances cost a bounded number of steps: a store where every session came back often is no slower per request than one of one-time returners', () => {
    /** ms for `creates` sessions each coming back `returns` times, at a full store. */
    const run = (returns: number): number => {
      const store = createMemoryStore<number>({ maxSessions: 5000, ttlSeconds: 0 });
      const start = performance.now();
      for (let i = 0; i < 50_000; i++) {
        const id = store.create(i);
        for (let k = 0; k < returns; k++) store.get(id);
      }
      expect(store.size).toBe(5000);
      return (performance.now() - start) / (1 + returns); // per request
    };
    run(1); // warm up
    const once = run(1); // every eviction takes the head
    const often = run(3); // count 3: every eviction looks at LOOK_AHEAD entries
    expect(often).toBeLessThan(once * 4 + 0.5);
  });
});
