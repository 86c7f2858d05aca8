/**
 * Bounded in-memory session store (SPEC §5): a segmented LRU whose protected
 * segment weighs how often a session came back (W-TinyLFU's idea, per entry).
 *
 * New sessions live in "probation"; a session used again by a later request
 * moves to "protected". When full, a new session evicts an expired entry if
 * one is at the head of a segment, else the LRU probation entry (so floods of
 * new visitors only recycle probation), else a protected entry.
 *
 * Coming back once is cheap: a bot that keeps its cookie does it with one
 * more request. So each entry counts its returns (a small saturating count,
 * halved every `10 × maxSessions` counted operations, lazily: an entry keeps
 * the period of its last count and is aged when read), and among protected
 * entries the LRU one is evicted only if it came back at most once; one that
 * came back more often is moved to the MRU end with its count (a second
 * chance), up to LOOK_AHEAD entries per eviction, after which the one with the
 * lowest count among those seen goes. A flood of bots coming back once each
 * thus recycles itself instead of a visitor who came back several times; to
 * push that visitor out it must outlast the halvings of the visitor's count.
 *
 * Each segment is a `Map` whose insertion order is its LRU order (first key =
 * least recently used): every operation is O(1) (at most LOOK_AHEAD steps),
 * and an entry costs two small integers more than a plain LRU entry.
 */

import { randomBytes } from 'node:crypto';

/** Options of `createMemoryStore`. */
export interface MemoryStoreOptions {
  /** Hard bound (>= 1): never more entries than this. */
  maxSessions: number;
  /** Idle seconds before expiry; 0 = never expire. */
  ttlSeconds: number;
  /** Millisecond clock, default `Date.now` (tests inject a fake clock). */
  now?: () => number;
}

/** A bounded session store mapping ids to live data. */
export interface MemoryStore<T> {
  /** The live data of a session id, or undefined if unknown/expired (an expired entry is removed). Marks the entry as used now (LRU) and, unless `sameRequest` is true, as "returning". */
  get(id: string, sameRequest?: boolean): T | undefined;
  /** Creates a session holding `data` under a fresh id (>= 128 bits from node:crypto randomBytes, base64url), evicting if full; returns the id. */
  create(data: T): string;
  /** Removes a session (no-op if unknown). */
  delete(id: string): void;
  /** Moves the data of `id` under a fresh id (returns it) and marks it as used now; the old id is dead. Returns undefined if `id` is unknown. Keeps the entry's returning status. */
  rename(id: string): string | undefined;
  /** Number of live entries (may count expired-but-not-yet-removed ones). */
  readonly size: number;
}

interface Entry<T> {
  data: T;
  /** Last use, in ms of the store's clock. */
  last: number;
  /** Returns counted (0 … MAX_HITS) as of `period`; read it aged with `hitsOf`. */
  hits: number;
  /** The aging period in which `hits` was last written. */
  period: number;
}

/** A return count saturates here: a few bits are enough to tell "came back once" from "comes back". */
const MAX_HITS = 15;
/** Halvings after which any count is 0 (15 → 7 → 3 → 1 → 0). */
const HALVINGS_TO_ZERO = 4;
/** Counted operations (creates and returns) per aging period, per session of the bound (W-TinyLFU's sample size is 10 × capacity). */
const PERIOD_PER_SESSION = 10;
/** Protected entries looked at, at most, to evict one. */
const LOOK_AHEAD = 8;

const ID_BYTES = 16;
/** Random bytes drawn in batches (one randomBytes call per 256 ids, as randomUUID does): each id still gets its own 128 fresh bits. */
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A fresh session id: 128 random bits from node:crypto randomBytes, base64url (22 chars). */
export function newSessionId(): string {
  if (poolOffset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * 256);
    poolOffset = 0;
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return id;
}

/** Creates an empty bounded memory store (see the module comment for the eviction policy). */
export function createMemoryStore<T>(options: MemoryStoreOptions): MemoryStore<T> {
  const { maxSessions, ttlSeconds } = options;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new RangeError(`maxSessions must be an integer >= 1, got ${maxSessions}`);
  }
  if (!(ttlSeconds >= 0) || !Number.isFinite(ttlSeconds)) {
    throw new RangeError(`ttlSeconds must be a finite number >= 0, got ${ttlSeconds}`);
  }
  const now = options.now ?? Date.now;
  const ttlMs = ttlSeconds * 1000;
  const periodLength = PERIOD_PER_SESSION * maxSessions;
  /** The current aging period, and the counted operations in it so far. */
  let period = 0;
  let opsInPeriod = 0;
  const tick = (): void => {
    if (++opsInPeriod >= periodLength) {
      opsInPeriod = 0;
      period++;
    }
  };
  /** An entry's return count, halved once per period since it was written. */
  const hitsOf = (entry: Entry<T>): number => {
    const age = period - entry.period;
    return age === 0 ? entry.hits : age >= HALVINGS_TO_ZERO ? 0 : entry.hits >> age;
  };
  const countReturn = (entry: Entry<T>): void => {
    entry.hits = Math.min(hitsOf(entry) + 1, MAX_HITS);
    entry.period = period;
    tick();
  };
  const probation = new Map<string, Entry<T>>();
  const protectedSeg = new Map<string, Entry<T>>();
  /** The id last put in protected: when it is used again it is already in place (no delete and set, which churn a small Map). */
  let newestProtected: string | undefined;
  const protect = (id: string, entry: Entry<T>): void => {
    protectedSeg.set(id, entry);
    newestProtected = id;
  };

  const isExpired = (entry: Entry<T>, t: number): boolean => ttlMs > 0 && t - entry.last > ttlMs;
  const has = (id: string): boolean => probation.has(id) || protectedSeg.has(id);

  /** A fresh id not currently in use (a collision is astronomically unlikely). */
  const freshId = (): string => {
    let id = newSessionId();
    while (has(id)) id = newSessionId();
    return id;
  };

  /** The first (least recently used) key of a segment, if any. */
  const oldest = (segment: Map<string, Entry<T>>): string | undefined => {
    for (const id of segment.keys()) return id;
    return undefined;
  };

  /** Removes the head of `segment` if it is expired; true if it did. */
  const dropExpiredHead = (segment: Map<string, Entry<T>>, t: number): boolean => {
    const id = oldest(segment);
    if (id === undefined || !isExpired(segment.get(id)!, t)) return false;
    return segment.delete(id);
  };

  /** Removes one entry: an expired segment head first, else LRU probation, else a protected one (see the module comment). */
  const evictOne = (t: number): void => {
    if (dropExpiredHead(probation, t) || dropExpiredHead(protectedSeg, t)) return;
    const head = oldest(probation);
    if (head !== undefined) {
      probation.delete(head);
      return;
    }
    let victim: string | undefined;
    let victimHits = Infinity;
    // One walk from the head (not `oldest` again and again: each call steps over the slots V8 keeps for deleted keys until it rebuilds the table).
    const ids = protectedSeg.keys();
    for (let i = 0; i < LOOK_AHEAD; i++) {
      const next = ids.next();
      if (next.done) break;
      const id = next.value;
      const entry = protectedSeg.get(id)!;
      const hits = hitsOf(entry);
      if (hits <= 1) {
        protectedSeg.delete(id);
        return;
      }
      if (hits < victimHits) {
        victim = id;
        victimHits = hits;
      }
      // A second chance: to the MRU end, count kept.
      protectedSeg.delete(id);
      protect(id, entry);
    }
    if (victim !== undefined) protectedSeg.delete(victim);
  };

  return {
    get(id, sameRequest = false) {
      const inProbation = probation.get(id);
      const entry = inProbation ?? protectedSeg.get(id);
      if (entry === undefined) return undefined;
      const segment = inProbation ? probation : protectedSeg;
      const t = now();
      if (isExpired(entry, t)) {
        segment.delete(id);
        return undefined;
      }
      entry.last = t;
      if (!sameRequest) countReturn(entry);
      if (!inProbation && id === newestProtected) return entry.data;
      segment.delete(id);
      if (inProbation && sameRequest) probation.set(id, entry);
      else protect(id, entry);
      return entry.data;
    },

    create(data) {
      const t = now();
      if (probation.size + protectedSeg.size >= maxSessions) evictOne(t);
      tick();
      const id = freshId();
      probation.set(id, { data, last: t, hits: 0, period });
      return id;
    },

    delete(id) {
      if (!probation.delete(id)) protectedSeg.delete(id);
    },

    rename(id) {
      const inProbation = probation.get(id);
      const entry = inProbation ?? protectedSeg.get(id);
      if (entry === undefined) return undefined;
      const segment = inProbation ? probation : protectedSeg;
      segment.delete(id);
      const fresh = freshId();
      entry.last = now();
      if (segment === protectedSeg) protect(fresh, entry);
      else probation.set(fresh, entry);
      return fresh;
    },

    get size() {
      return probation.size + protectedSeg.size;
    },
  };
}
