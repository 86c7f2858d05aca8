/**
 * --session-store redis://…: sessions shared by every worker and machine (SPEC §5).
 *
 * Layout: one Redis hash per session, `kts:sess:<id>`, holding
 *   `@`       the creation time (so that an empty session still exists), and
 *   `k:NAME`  one field per session key, its value serialised with `v8.serialize`
 *             (structured clone) and stored as binary.
 * Every key written gets the TTL `--session-ttl` (0 = none), refreshed by each
 * request that opens the session.
 *
 * A request carrying a `sessionId` cookie loads that hash before its script
 * runs (HGETALL), so that `Session()` stays synchronous; values are decoded
 * only if the script calls `Session()`. After the script, only the keys whose
 * serialised bytes changed are written (HSET / HDEL in one Lua script that
 * writes nothing if the session was closed meanwhile), so two concurrent
 * requests changing different keys both keep their change.
 */
import v8 from 'node:v8';
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import type { PageContext, SessionHolder, SessionObject } from '../script/context.js';
import { clearSessionCookie, requestSessionId, sessionCookie, sessionView, type SessionBackend } from './memory.js';
import { newSessionId } from './store.js';
import { HttpError } from '../script/signals.js';
import { OptionError, StartError } from '../options.js';

const KEY_PREFIX = 'kts:sess:';
const FIELD_PREFIX = 'k:';
const META_FIELD = '@';
/** The start fails if Redis has not answered within this time. */
const STARTUP_TIMEOUT_MS = 5000;
/** A command not answered within this time fails (the request gets 503). */
const COMMAND_TIMEOUT_MS = 3000;
/** At most one "answering 503" line per this many ms (the rest are counted). */
const LOG_EVERY_MS = 5000;

/**
 * Saves one session. KEYS[1] = the session, KEYS[2..] = dead ids to delete.
 * ARGV[1] = TTL in seconds (0 = none), ARGV[2] = "1" if the session must
 * already exist (else nothing is written: it was closed or expired meanwhile,
 * and must not come back), ARGV[3] = n, then n field/value pairs to set, then
 * the fields to delete.
 */
const SAVE_SCRIPT = `
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
local key = KEYS[1]
if ARGV[2] == '1' and redis.call('EXISTS', key) == 0 then return 0 end
local n = tonumber(ARGV[3])
for i = 4, 3 + 2 * n, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
for i = 4 + 2 * n, #ARGV do redis.call('HDEL', key, ARGV[i]) end
local ttl = tonumber(ARGV[1])
if ttl > 0 then redis.call('EXPIRE', key, ttl) end
return 1
`;
const SAVE_SHA = createHash('sha1').update(SAVE_SCRIPT).digest('hex');

/** What one request knows about its session (shared with the scripts it includes). */
interface RequestState {
  /** The id the client sent, if Redis knows it and it was not yet adopted. */
  loadedId?: string;
  /** Its fields as loaded (name without prefix → serialised bytes). */
  loaded?: Map<string, Buffer>;
  /** Loading failed: `Session()` answers 503. */
  failure?: unknown;
  /** The open session's data (the object behind the proxy). */
  data?: Record<string, unknown>;
  /** What Redis holds for the open session (compared with at the end). */
  baseline?: Map<string, Buffer>;
  /** The open session's id is not in Redis yet (new, or regenerated): write it whole. */
  fresh: boolean;
  /** Ids that died in this request (closed, or left by regenerate). */
  dead: string[];
}

/** `redis://user:secret@host` → `redis://user:***@host` (never log a password). */
export function redactUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/i, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return `${scheme}${colon >= 0 ? auth.slice(0, colon) + ':***' : '***'}@`;
  });
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return describe(err.errors[0]);
  const e = err as { message?: string; code?: string; cause?: unknown } | undefined;
  const message = e?.message || e?.code || String(err);
  return message.split('\n')[0]!;
}

/** Opens the Redis session backend; rejects with a StartError when Redis cannot be reached at start. */
export async function createRedisSessions(url: string, ttlSeconds: number, log: Logger): Promise<SessionBackend> {
  const where = redactUrl(url);
  const ttl = String(Math.max(0, Math.floor(ttlSeconds)));
  let started = false;
  let up = false;
  // Loaded here, not at the top: servers with the memory store do not pay for the client.
  const { createClient, ErrorReply, ReconnectStrategyError, RESP_TYPES } = await import('redis');

  const makeClient = () =>
    createClient({
      url,
      RESP: 2,
      // Fail fast while disconnected: never queue a request's commands until Redis is back.
      disableOfflineQueue: true,
      // No per-command AbortSignal (it costs more than the command): `send` bounds each command itself.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: 2000,
        // At start: a few quick tries, then give up (OptionError). Later: retry forever, at most every second.
        reconnectStrategy: (retries: number, cause: Error) => {
          if (!started) return retries < 3 ? 100 * (retries + 1) : cause;
          return Math.min(50 * 2 ** retries, 1000);
        },
      },
    });
  let client: ReturnType<typeof makeClient>;
  try {
    client = makeClient();
  } catch (err) {
    throw new OptionError(`--session-store: ${JSON.stringify(where)} is not a valid Redis URL (${describe(err)})`);
  }
  // Without an 'error' listener the client would crash the process: errors are logged once per outage instead.
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  client.on('reconnecting', () => {
    if (!started || !up) return;
    up = false;
    log.error(`karrigell-ts: lost the connection to the session store at ${where} (${describe(lastError)}); requests that use a session get 503 until it is back`);
  });
  client.on('ready', () => {
    if (started && !up) log.info(`karrigell-ts: session store at ${where} is reachable again`);
    up = true;
  });

  let startTimer: NodeJS.Timeout | undefined;
  try {
    // connectTimeout covers TCP only: a server that accepts but never answers must not hang the start either.
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        startTimer = setTimeout(() => reject(new Error(`no answer within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    client.destroy();
    const cause = err instanceof ReconnectStrategyError ? err.originalError : err;
    // An error reply (WRONGPASS, NOAUTH …) means Redis answered but refused us.
    const answered = cause instanceof ErrorReply;
    throw new StartError(`${answered ? 'cannot use' : 'cannot reach'} Redis at ${where} (${describe(cause)})${answered ? '' : ': start it, or use --session-store memory'}`);
  } finally {
    clearTimeout(startTimer);
  }
  started = true;
  up = true;
  // The connection alone never keeps the process alive (e.g. when the server then fails to listen).
  client.unref();

  const binary = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };
  const states = new WeakMap<SessionHolder, RequestState>();

  let lastReport = 0;
  let unreported = 0;
  /** The 503 of a request that could not use the store (logged, at most one line per LOG_EVERY_MS). */
  function unavailable(err: unknown, what: string): HttpError {
    const now = Date.now();
    if (now - lastReport >= LOG_EVERY_MS) {
      const more = unreported ? ` (and ${unreported} more since the last report)` : '';
      log.error(`karrigell-ts: session store at ${where} unavailable while ${what} (${describe(err)}): answered 503${more}`);
      lastReport = now;
      unreported = 0;
    } else {
      unreported++;
    }
    return new HttpError(503, 'The session store is unavailable: try again in a moment.', { 'retry-after': '2' });
  }

  /**
   * A command's reply, or a rejection after COMMAND_TIMEOUT_MS: node-redis's
   * own timeout only covers commands not yet written, and a frozen Redis must
   * not hold requests until --timeout.
   */
  function send<T>(args: (string | Buffer)[], options?: typeof binary): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${COMMAND_TIMEOUT_MS / 1000} s`)), COMMAND_TIMEOUT_MS);
      client.sendCommand(args, options).then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply as T);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  async function save(keys: string[], args: (string | Buffer)[]): Promise<void> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      await send(['EVALSHA', SAVE_SHA, ...tail]);
    } catch (err) {
      if (!describe(err).startsWith('NOSCRIPT')) throw err;
      await send(['EVAL', SAVE_SCRIPT, ...tail]);
    }
  }

  function stateOf(holder: SessionHolder): RequestState {
    let state = states.get(holder);
    if (!state) {
      state = { fresh: false, dead: [] };
      states.set(holder, state);
    }
    return state;
  }

  function bind(ctx: PageContext, state: RequestState, data: Record<string, unknown>): SessionObject {
    const holder = ctx.session;
    return sessionView(data, {
      close() {
        if (!holder.current) return;
        if (holder.id && !state.fresh) state.dead.push(holder.id);
        holder.current = undefined;
        holder.id = undefined;
        state.data = undefined;
        state.baseline = undefined;
        state.fresh = false;
        ctx.cookies.push(clearSessionCookie(ctx));
      },
      regenerate() {
        if (!holder.current || !holder.id) return;
        if (!state.fresh) state.dead.push(holder.id);
        holder.id = newSessionId();
        state.fresh = true;
        ctx.cookies.push(sessionCookie(ctx, holder.id));
      },
    });
  }

  return {
    async before(ctx) {
      const id = requestSessionId(ctx);
      if (!id) return;
      const state = stateOf(ctx.session);
      let reply: Buffer[];
      try {
        reply = await send<Buffer[]>(['HGETALL', KEY_PREFIX + id], binary);
      } catch (err) {
        // Only a script that calls Session() fails (503): the others still work while Redis is down.
        state.failure = err;
        return;
      }
      if (!reply.length) return; // unknown, expired or forged: never adopted
      const loaded = new Map<string, Buffer>();
      for (let i = 0; i + 1 < reply.length; i += 2) {
        const field = reply[i]!.toString('utf8');
        if (field.startsWith(FIELD_PREFIX)) loaded.set(field.slice(FIELD_PREFIX.length), reply[i + 1]!);
      }
      state.loadedId = id;
      state.loaded = loaded;
    },

    open(ctx) {
      const holder = ctx.session;
      if (holder.current) return holder.current;
      const state = stateOf(holder);
      if (state.failure !== undefined) throw unavailable(state.failure, 'loading a session');
      const data = Object.create(null) as Record<string, unknown>;
      if (state.loadedId && state.loaded) {
        for (const [name, bytes] of state.loaded) {
          try {
            data[name] = v8.deserialize(bytes);
          } catch (err) {
            // Unreadable: dropped here, and so deleted from Redis at the end (it stays in the baseline).
            log.error(`karrigell-ts: session value ${JSON.stringify(name)} in Redis is unreadable and was dropped (${describe(err)})`);
          }
        }
        holder.id = state.loadedId;
        state.baseline = state.loaded;
        state.fresh = false;
      } else {
        holder.id = newSessionId();
        state.baseline = new Map();
        state.fresh = true;
        ctx.cookies.push(sessionCookie(ctx, holder.id));
      }
      // Adopted once: after close(), Session() starts a new session.
      state.loadedId = undefined;
      state.loaded = undefined;
      state.data = data;
      holder.current = bind(ctx, state, data);
      return holder.current;
    },

    async after(ctx) {
      const holder = ctx.session;
      const state = states.get(holder);
      if (!state) return;
      states.delete(holder);
      const dead = state.dead.map((id) => KEY_PREFIX + id);
      if (!holder.current || !holder.id || !state.data) {
        if (!dead.length) return;
        try {
          await send(['DEL', ...dead]);
        } catch (err) {
          throw unavailable(err, 'closing a session');
        }
        return;
      }
      // Serialise everything first: a value that cannot be stored fails the request before anything is written.
      const data = state.data;
      const baseline = state.baseline ?? new Map<string, Buffer>();
      const set: (string | Buffer)[] = [];
      const del: string[] = [];
      for (const name of Object.keys(data)) {
        let bytes: Buffer;
        try {
          bytes = v8.serialize(data[name]);
        } catch (err) {
          throw new Error(`Session value ${JSON.stringify(name)} cannot be stored in Redis: ${describe(err)} (session values must be structured-clone serialisable: strings, numbers, arrays, plain objects, Map, Set, Date …; the session keeps its previous state)`);
        }
        const before = baseline.get(name);
        if (state.fresh || !before || !before.equals(bytes)) set.push(FIELD_PREFIX + name, bytes);
      }
      if (!state.fresh) for (const name of baseline.keys()) if (!Object.hasOwn(data, name)) del.push(FIELD_PREFIX + name);
      if (state.fresh) set.push(META_FIELD, String(Date.now()));
      const key = KEY_PREFIX + holder.id;
      try {
        if (!set.length && !del.length && !dead.length) {
          if (ttl !== '0') await send(['EXPIRE', key, ttl]);
        } else {
          await save([key, ...dead], [ttl, state.fresh ? '0' : '1', String(set.length / 2), ...set, ...del]);
        }
      } catch (err) {
        throw unavailable(err, 'saving a session');
      }
    },

    async shutdown() {
      if (!client.isOpen) return;
      const timer = setTimeout(() => client.destroy(), 1000);
      try {
        await client.close();
      } catch {
        client.destroy();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
