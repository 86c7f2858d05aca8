/** Session() (SPEC §5): the visitor's session object, kept in a bounded store. */
import * as cookie from 'cookie';
import { originOf } from '../script/origin.js';
import { createMemoryStore } from './store.js';
import type { PageContext, SessionMethods, SessionObject } from '../script/context.js';

export const SESSION_COOKIE = 'sessionId';

/** A place where sessions are kept: memory (here) or Redis (session-redis.ts). */
export interface SessionBackend {
  /** Before the script runs: load what `open` will need (Redis). */
  before?(ctx: PageContext): Promise<void> | void;
  /** `Session()`. */
  open(ctx: PageContext): SessionObject;
  /** After the script, before the response: save what changed (Redis). */
  after?(ctx: PageContext): Promise<void> | void;
  /** Server shutdown. */
  shutdown?(): Promise<void> | void;
}

/** The `Set-Cookie` value of a session id (SPEC §5 flags, Secure over HTTPS); ids are base64url, safe as they are. */
export function sessionCookie(ctx: PageContext, id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${originOf(ctx).secure ? '; Secure' : ''}`;
}

/** A `Set-Cookie` that removes the session cookie. */
export function clearSessionCookie(ctx: PageContext): string {
  return cookie.serialize(SESSION_COOKIE, '', { path: '/', httpOnly: true, sameSite: 'lax', secure: originOf(ctx).secure, maxAge: 0, expires: new Date(0) });
}

/** The session id sent by the client, if any. */
export function requestSessionId(ctx: PageContext): string | undefined {
  const header = ctx.req.headers.cookie;
  if (!header) return undefined;
  let at = header.indexOf(SESSION_COOKIE + '=');
  // Only a whole cookie name counts (not e.g. `xsessionId=`).
  while (at > 0 && header[at - 1] !== ' ' && header[at - 1] !== ';') at = header.indexOf(SESSION_COOKIE + '=', at + 1);
  if (at < 0) return undefined;
  const start = at + SESSION_COOKIE.length + 1;
  const end = header.indexOf(';', start);
  const id = header.slice(start, end < 0 ? undefined : end).trim();
  return /^[A-Za-z0-9_-]{16,128}$/.test(id) ? id : undefined;
}

/**
 * What `Session()` returns: the stored data object seen through a proxy that
 * adds this request's `close` and `regenerate` (the data itself stays plain,
 * so concurrent requests of one visitor share it safely).
 */
export function sessionView(data: Record<string, unknown>, methods: SessionMethods): SessionObject {
  return new Proxy(data, {
    get(target, key) {
      if (key === 'close') return methods.close;
      if (key === 'regenerate') return methods.regenerate;
      return target[key as string];
    },
  }) as SessionObject;
}

/** A session of the memory store: its live data and where it stands. */
interface MemoryRecord {
  id: string;
  data: SessionObject;
  closed: boolean;
  /** The record's own methods, made the first time a script reads them. */
  methods: SessionMethods | undefined;
}

/** The link from a session's data object to its record (a symbol: not data, never enumerated). */
const RECORD = Symbol('karrigell-ts.session');

/**
 * The memory backend: the store holds the live objects themselves, so
 * concurrent requests of one visitor share one object and lose nothing.
 * `close` and `regenerate` are getters of a prototype shared by every
 * session, which make the record's methods the first time they are read (a
 * session costs its data, its record and its id: it lives long enough to be
 * promoted, so every byte counts under a flood). They change the record, and
 * each request that opened the session sends the cookie that follows from it
 * after its script.
 */
export function createMemorySessions(maxSessions: number, ttlSeconds: number): SessionBackend & { readonly size: number } {
  const store = createMemoryStore<MemoryRecord>({ maxSessions, ttlSeconds });
  const methodsOf = (so: unknown): SessionMethods => {
    const record = (so as { [RECORD]: MemoryRecord })[RECORD];
    return (record.methods ??= {
      close() {
        if (record.closed) return;
        record.closed = true;
        store.delete(record.id);
      },
      regenerate() {
        if (record.closed) return;
        record.id = store.rename(record.id) ?? record.id;
      },
    });
  };
  // No Object.prototype behind it: a session key can be any name (`constructor`, `__proto__` …).
  const proto = Object.create(null, {
    close: {
      get(this: SessionObject) {
        return methodsOf(this).close;
      },
    },
    regenerate: {
      get(this: SessionObject) {
        return methodsOf(this).regenerate;
      },
    },
  }) as SessionMethods;

  function newRecord(): MemoryRecord {
    const data = Object.create(proto) as SessionObject;
    const record: MemoryRecord = { id: '', data, closed: false, methods: undefined };
    Object.defineProperty(data, RECORD, { value: record });
    record.id = store.create(record);
    return record;
  }

  return {
    open(ctx) {
      const holder = ctx.session;
      const current = holder.state as MemoryRecord | undefined;
      if (current && !current.closed) return current.data;
      const sent = current ? undefined : requestSessionId(ctx);
      let record = sent ? store.get(sent) : undefined;
      if (!record || record.closed) {
        record = newRecord();
        ctx.cookies.push(sessionCookie(ctx, record.id));
      }
      holder.state = record;
      holder.id = record.id;
      holder.current = record.data;
      return record.data;
    },
    after(ctx) {
      const holder = ctx.session;
      const record = holder.state as MemoryRecord | undefined;
      if (!record) return;
      if (record.closed) ctx.cookies.push(clearSessionCookie(ctx));
      else if (record.id !== holder.id) ctx.cookies.push(sessionCookie(ctx, record.id));
    },
    get size() {
      return store.size;
    },
  };
}
