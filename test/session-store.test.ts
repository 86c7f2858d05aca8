import { describe, it, expect } from 'vitest';
import { createMemoryStore, newSessionId } from '../src/session/store.js';

/** A settable millisecond clock. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

describe('newSessionId', () => {
  it('is base64url with at least 128 bits', () => {
    const id = newSessionId();
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(id.length).toBeGreaterThanOrEqual(22);
    expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('never repeats over 1000 ids and spreads over the alphabet', () => {
    const ids = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = newSessionId();
      ids.add(id);
      for (const c of id) chars.add(c);
    }
    expect(ids.size).toBe(1000);
    expect(chars.size).toBeGreaterThan(60); // 64-symbol alphabet, ~22 000 symbols drawn
  });

  it('is what create and rename hand out', () => {
    const store = createMemoryStore<number>({ maxSessions: 10, ttlSeconds: 0 });
    const a = store.create(1);
    const b = store.rename(a)!;
    for (const id of [a, b]) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    }
    expect(a).not.toBe(b);
  });
});

describe('createMemoryStore: options', () => {
  it('rejects a bound below 1 and a negative ttl', () => {
    expect(() => createMemoryStore({ maxSessions: 0, ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => createMemoryStore({ maxSessions: 1.5, ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => createMemoryStore({ maxSessions: 1, ttlSeconds: -1 })).toThrow(RangeError);
    expect(() => createMemoryStore({ maxSessions: 1, ttlSeconds: Number.NaN })).toThrow(RangeError);
  });

  it('works with a bound of 1', () => {
    const store = createMemoryStore<string>({ maxSessions: 1, ttlSeconds: 0 });
    const a = store.create('a');
    expect(store.get(a)).toBe('a');
    const b = store.create('b');
    expect(store.size).toBe(1);
    expect(store.get(a)).toBeUndefined();
    expect(store.get(b)).toBe('b');
  });
});

describe('createMemoryStore: get / create / delete / rename', () => {
  it('create returns distinct ids holding the live data object', () => {
    const store = createMemoryStore<{ n: number }>({ maxSessions: 10, ttlSeconds: 0 });
    const data = { n: 1 };
    const a = store.create(data);
    const b = store.create({ n: 2 });
    expect(a).not.toBe(b);
    expect(store.size).toBe(2);
    expect(store.get(a)).toBe(data); // same object, not a copy
    store.get(a)!.n = 42;
    expect(store.get(a, true)!.n).toBe(42);
    expect(store.get(b)!.n).toBe(2);
  });

  it('never adopts an unknown id', () => {
    const store = createMemoryStore<number>({ maxSessions: 10, ttlSeconds: 0 });
    store.create(1);
    expect(store.get('forged-id-aaaaaaaaaaaaaa')).toBeUndefined();
    expect(store.get('')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('delete removes from either segment and ignores unknown ids', () => {
    const store = createMemoryStore<number>({ maxSessions: 10, ttlSeconds: 0 });
    const fresh = store.create(1);
    const back = store.create(2);
    store.get(back); // now returning (protected)
    store.delete('nope');
    expect(store.size).toBe(2);
    store.delete(fresh);
    store.delete(back);
    expect(store.size).toBe(0);
    expect(store.get(fresh)).toBeUndefined();
    expect(store.get(back)).toBeUndefined();
    store.delete(fresh); // twice is fine
    expect(store.size).toBe(0);
  });

  it('rename moves the data to a new id and kills the old one', () => {
    const store = createMemoryStore<{ user: string }>({ maxSessions: 10, ttlSeconds: 0 });
    const data = { user: 'john' };
    const old = store.create(data);
    const renamed = store.rename(old);
    expect(renamed).toBeDefined();
    expect(renamed).not.toBe(old);
    expect(store.get(old)).toBeUndefined();
    expect(store.get(renamed!)).toBe(data);
    expect(store.size).toBe(1);
    expect(store.rename('unknown')).toBeUndefined();
    expect(store.rename(old)).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('rename keeps a returning entry protected', () => {
    const store = createMemoryStore<string>({ maxSessions: 2, ttlSeconds: 0 });
    const a = store.create('a');
    store.get(a); // returning
    const a2 = store.rename(a)!;
    const b = store.create('b');
    store.create('c'); // full: must evict b (probation), not a2
    expect(store.get(b)).toBeUndefined();
    expect(store.get(a2)).toBe('a');
  });

  it('rename keeps a never-returned entry in probation', () => {
    const store = createMemoryStore<string>({ maxSessions: 2, ttlSeconds: 0 });
    const a = store.create('a');
    const a2 = store.rename(a)!; // still probation, most recently used
    const b = store.create('b');
    store.get(b); // b returns: protected
    store.create('c'); // full: must evict a2 (only probation entry), not b
    expect(store.get(a2)).toBeUndefined();
    expect(store.get(b)).toBe('b');
  });
});

describe('createMemoryStore: TTL', () => {
  it('expires entries idle longer than ttl and removes them on get', () => {
    const clock = fakeClock();
    const store = createMemoryStore<string>({ maxSessions: 10, ttlSeconds: 10, now: clock.now });
    const a = store.create('a');
    const b = store.create('b');
    clock.advance(10_000); // exactly ttl idle: still alive
    expect(store.get(a)).toBe('a'); // refreshes a
    clock.advance(1);
    expect(store.size).toBe(2); // b expired but not yet removed
    expect(store.get(b)).toBeUndefined();
    expect(store.size).toBe(1); // b removed by get
    expect(store.get(b)).toBeUndefined();
    clock.advance(9_999);
    expect(store.get(a, true)).toBe('a'); // sliding: alive 10 s after its last use
    clock.advance(10_001);
    expect(store.get(a)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('expires protected entries too', () => {
    const clock = fakeClock();
    const store = createMemoryStore<string>({ maxSessions: 10, ttlSeconds: 5, now: clock.now });
    const a = store.create('a');
    store.get(a);
    clock.advance(5_001);
    expect(store.get(a)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('ttl 0 never expires', () => {
    const clock = fakeClock();
    const store = createMemoryStore<string>({ maxSessions: 10, ttlSeconds: 0, now: clock.now });
    const a = store.create('a');
    clock.advance(1e12);
    expect(store.get(a)).toBe('a');
    clock.advance(1e12);
    const b = store.create('b'); // not full: nothing evicted
    expect(store.get(a)).toBe('a');
    expect(store.get(b)).toBe('b');
  });
});

describe('createMemoryStore: eviction', () => {
  it('evicts the least recently used entry of probation', () => {
    const store = createMemoryStore<string>({ maxSessions: 3, ttlSeconds: 0 });
    const a = store.create('a');
    const b = store.create('b');
    const c = store.create('c');
    store.get(a, true); // same request: stays in probation, but becomes most recent
    const d = store.create('d'); // evicts b, the LRU (a would go under insertion order)
    expect(store.size).toBe(3);
    expect(store.get(b, true)).toBeUndefined();
    store.create('e'); // evicts c
    expect(store.get(c, true)).toBeUndefined();
    expect(store.get(a, true)).toBe('a');
    expect(store.get(d, true)).toBe('d');
  });

  it('a same-request get does not make an entry returning', () => {
    const store = createMemoryStore<string>({ maxSessions: 2, ttlSeconds: 0 });
    const a = store.create('a');
    store.get(a, true);
    store.get(a, true);
    const b = store.create('b');
    store.create('c'); // both in probation: evicts a, the LRU
    expect(store.get(a)).toBeUndefined();
    expect(store.get(b)).toBe('b');
  });

  it('a later-request get protects an entry from newer probation entries', () => {
    const store = createMemoryStore<string>({ maxSessions: 2, ttlSeconds: 0 });
    const a = store.create('a');
    store.get(a); // came back
    const b = store.create('b');
    store.get(b, true); // b is more recent than a but never came back
    store.create('c'); // evicts b (probation), although a is the global LRU
    expect(store.get(b)).toBeUndefined();
    expect(store.get(a)).toBe('a');
  });

  it('evicts protected entries in LRU order when only protected remain', () => {
    const store = createMemoryStore<string>({ maxSessions: 3, ttlSeconds: 0 });
    const a = store.create('a');
    const b = store.create('b');
    const c = store.create('c');
    store.get(b);
    store.get(a);
    store.get(c); // protected order: b, a, c
    store.get(b, true); // protected order: a, c, b
    const d = store.create('d'); // probation empty: evicts a
    expect(store.get(a, true)).toBeUndefined();
    store.get(d); // d protected: protected order c, b, d
    store.create('e'); // evicts c
    expect(store.get(c, true)).toBeUndefined();
    expect(store.get(b, true)).toBe('b');
    expect(store.get(d, true)).toBe('d');
    expect(store.size).toBe(3);
  });

  it('keeps LRU order when the newest protected entry is used again and again, and after it is renamed or deleted', () => {
    const store = createMemoryStore<string>({ maxSessions: 3, ttlSeconds: 0 });
    const a = store.create('a');
    const b = store.create('b');
    store.get(a);
    store.get(b); // protected order: a, b (b newest); each came back once
    for (let i = 0; i < 5; i++) store.get(b, true); // already newest: stays so
    store.get(a, true); // protected order: b, a
    store.get(a, true);
    const c = store.create('c');
    store.get(c); // protected order: b, a, c
    store.create('d'); // full, probation empty: evicts b, the oldest protected (it came back once only)
    expect(store.get(b, true)).toBeUndefined();
    const a2 = store.rename(a)!; // protected order: c, a2
    store.get(c); // protected order: a2, c
    store.delete(c);
    store.create('e');
    store.create('f'); // full (a2, d or e, f): the oldest probation entry goes first
    expect(store.get(a2, true)).toBe('a');
    expect(store.size).toBe(3);
  });

  it('evicts an expired entry before a fresh probation entry', () => {
    const clock = fakeClock();
    const store = createMemoryStore<string>({ maxSessions: 2, ttlSeconds: 10, now: clock.now });
    const a = store.create('a');
    clock.advance(1_000);
    store.get(a); // a returning, last used at +1 s
    clock.advance(4_000);
    const b = store.create('b'); // fresh probation entry at +5 s
    clock.advance(7_000); // +12 s: a idle 11 s (expired), b idle 7 s
    const c = store.create('c'); // must evict a, not the probation LRU b
    expect(store.size).toBe(2);
    expect(store.get(b, true)).toBe('b');
    expect(store.get(c, true)).toBe('c');
  });

  it('survives a flood: returning visitors keep their data, size stays bounded', () => {
    const store = createMemoryStore<{ visitor: number }>({ maxSessions: 100, ttlSeconds: 3600 });
    const visitors: string[] = [];
    for (let i = 0; i < 50; i++) {
      const id = store.create({ visitor: i });
      store.get(id); // second request
      store.get(id); // third request
      visitors.push(id);
    }
    let maxSize = store.size;
    for (let i = 0; i < 10_000; i++) {
      const bot = store.create({ visitor: -1 });
      store.get(bot, true); // bots touch their session within the request only
      maxSize = Math.max(maxSize, store.size);
      if (i % 1000 === 999) {
        // the visitors keep coming back during the flood
        for (const id of visitors) expect(store.get(id)).toBeDefined();
      }
    }
    expect(maxSize).toBe(100);
    visitors.forEach((id, i) => expect(store.get(id)).toEqual({ visitor: i }));
  });

  it('keeps the bound when new visitors outnumber it (memory stays flat)', () => {
    const store = createMemoryStore<number>({ maxSessions: 10, ttlSeconds: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = store.create(i);
      store.get(id); // everyone returns: all protected
      ids.push(id);
      expect(store.size).toBeLessThanOrEqual(10);
    }
    expect(store.size).toBe(10);
    // only the 10 most recent survive
    expect(ids.filter((id) => store.get(id, true) !== undefined)).toEqual(ids.slice(-10));
  });
});

describe('createMemoryStore: cost', () => {
  /** Milliseconds taken by `creates` creates (with some gets) at the given bound. */
  function run(maxSessions: number, creates: number): number {
    const store = createMemoryStore<number>({ maxSessions, ttlSeconds: 60 });
    const start = performance.now();
    let last = '';
    for (let i = 0; i < creates; i++) {
      const id = store.create(i);
      if (i % 3 === 0) store.get(id);
      if (i % 7 === 0) store.get(last);
      last = id;
    }
    const elapsed = performance.now() - start;
    expect(store.size).toBe(Math.min(maxSessions, creates));
    return elapsed;
  }

  it('200 000 creates at bound 1000 take well under a few seconds', () => {
    expect(run(1000, 200_000)).toBeLessThan(3000);
  });

  it('cost per create does not grow with the bound (no scans)', () => {
    run(1000, 20_000); // warm up
    const small = run(1000, 60_000);
    const large = run(20_000, 60_000);
    // a scan per create would make `large` about 20 times slower; allow for GC noise on large maps
    expect(large).toBeLessThan(small * 8 + 300);
  });
});
