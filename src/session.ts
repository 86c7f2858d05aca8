/** Session() (SPEC §5): the visitor's session object, kept in a bounded store. */
import * as cookie from 'cookie';
import { createMemoryStore } from './session-store.js';
import type { PageContext } from './scope.js';

export const SESSION_COOKIE = 'sessionId';

/** The methods every session object has (not enumerable: `Object.keys(so)` shows only data). */
export interface SessionMethods {
  /** Discards the session: the next request starts a new, empty one. */
  close(): void;
  /** Gives the session a new id, keeping its data (call it after a login). */
  regenerate(): void;
}

export type SessionObject = Record<string, unknown> & SessionMethods;

/** The session of one request, shared with the scripts it includes. */
export interface SessionHolder {
  current?: SessionObject;
  id?: string;
}

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

/** The `Set-Cookie` value of a session id (SPEC §5 flags). */
export function sessionCookie(id: string, secure: boolean): string {
  return cookie.serialize(SESSION_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** A `Set-Cookie` that removes the session cookie. */
export function clearSessionCookie(secure: boolean): string {
  return cookie.serialize(SESSION_COOKIE, '', { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: 0, expires: new Date(0) });
}

/** The session id sent by the client, if any. */
export function requestSessionId(ctx: PageContext): string | undefined {
  const header = ctx.req.headers.cookie;
  if (!header || !header.includes(SESSION_COOKIE)) return undefined;
  const id = cookie.parse(header)[SESSION_COOKIE];
  return id && /^[A-Za-z0-9_-]{16,128}$/.test(id) ? id : undefined;
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

/**
 * The memory backend: the store holds the live objects themselves, so
 * concurrent requests of one visitor share one object and lose nothing.
 */
export function createMemorySessions(maxSessions: number, ttlSeconds: number): SessionBackend & { readonly size: number } {
  const store = createMemoryStore<Record<string, unknown>>({ maxSessions, ttlSeconds });

  function bind(ctx: PageContext, data: Record<string, unknown>): SessionObject {
    const holder = ctx.session;
    return sessionView(data, {
      close() {
        if (holder.id) store.delete(holder.id);
        if (holder.current) {
          holder.current = undefined;
          holder.id = undefined;
          ctx.cookies.push(clearSessionCookie(ctx.secure));
        }
      },
      regenerate() {
        const id = holder.id && store.rename(holder.id);
        if (!id) return;
        holder.id = id;
        ctx.cookies.push(sessionCookie(id, ctx.secure));
      },
    });
  }

  return {
    open(ctx) {
      const holder = ctx.session;
      if (holder.current) return holder.current;
      const sent = requestSessionId(ctx);
      let data = sent ? store.get(sent) : undefined;
      if (data) {
        holder.id = sent;
      } else {
        data = Object.create(null) as Record<string, unknown>;
        holder.id = store.create(data);
        ctx.cookies.push(sessionCookie(holder.id, ctx.secure));
      }
      holder.current = bind(ctx, data);
      return holder.current;
    },
    get size() {
      return store.size;
    },
  };
}
