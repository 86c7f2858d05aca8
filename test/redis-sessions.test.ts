/**
 * --session-store redis://… (SPEC §5) against a real redis-server: sessions
 * shared through Redis, only changed keys saved, TTL on every key, close and
 * regenerate, unknown ids never adopted, unserialisable values, Redis down.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { createClient } from 'redis';
import { createServer } from '../dist/index.js';
import { tempSite, runCli, sleep } from './helpers.js';
import { startRedis, freePort, SKIP_REDIS, type RedisServer } from './redis-server.js';

const TEXT = 'RESPONSE.headers["content-type"] = "text/plain";\n';
const JSON_TYPE = 'RESPONSE.headers["content-type"] = "application/json";\n';

const SITE = {
  'count.ts': `${TEXT}const so = Session();\nso.n = ((so.n as number | undefined) ?? 0) + 1;\nprint(String(so.n));\n`,
  'set.ts': `${TEXT}const so = Session();\nif (QUERY.wait) await new Promise((r) => setTimeout(r, Number(QUERY.wait)));\nso[String(QUERY.k)] = String(QUERY.v);\nprint("ok");\n`,
  'del.ts': `${TEXT}const so = Session();\ndelete so[String(QUERY.k)];\nprint("deleted");\n`,
  'get.ts': `${JSON_TYPE}const so = Session();\nprint(JSON.stringify(so));\n`,
  'peek.ts': `${TEXT}print(String(Object.keys(Session()).length));\n`,
  'plain.ts': `${TEXT}print("no session here");\n`,
  'types-set.ts': `${TEXT}const so = Session();\nso.map = new Map([["a", 1]]);\nso.set = new Set([1, 2]);\nso.date = new Date(86400000);\nso.nested = { list: [1, { deep: true }], n: null };\nso.big = 10n ** 20n;\nso.bytes = new Uint8Array([1, 2, 3]);\nso.und = undefined;\nprint("ok");\n`,
  'types-get.ts': `${JSON_TYPE}const so = Session();\nprint(JSON.stringify({
  map: so.map instanceof Map && (so.map as Map<string, number>).get("a"),
  set: so.set instanceof Set && [...(so.set as Set<number>)],
  date: so.date instanceof Date && (so.date as Date).toISOString(),
  nested: so.nested,
  big: typeof so.big === "bigint" && String(so.big),
  bytes: so.bytes instanceof Uint8Array && [...(so.bytes as Uint8Array)],
  und: "und" in so && so.und === undefined,
}));\n`,
  'bad.ts': `${TEXT}const so = Session();\nso.n = 999;\nso.cb = () => 1;\nprint("stored a function");\n`,
  'close.ts': `${TEXT}Session().close();\nprint("closed");\n`,
  'close-reopen.ts': `${TEXT}const old = Session();\nold.close();\nconst so = Session();\nso.fresh = "yes";\nprint(String(Object.keys(so).length));\n`,
  'regen.ts': `${TEXT}const so = Session();\nso.regenerate();\nso.after = "regen";\nprint("regenerated");\n`,
  'include.ts': `${TEXT}Session().outer = 1;\nawait Include("_inc.ts");\nprint(String(Session().inner));\n`,
  '_inc.ts': 'Session().inner = 2;\n',
};

interface Jar {
  id?: string;
}

/** The `sessionId` a response sets ('' when it clears it), if any. */
function setSessionId(res: Response): string | undefined {
  let id: string | undefined;
  for (const c of res.headers.getSetCookie()) {
    const m = /^sessionId=([^;]*)/.exec(c);
    if (m) id = m[1];
  }
  return id;
}

async function get(base: string, path: string, jar?: Jar): Promise<{ status: number; text: string; setId?: string; res: Response }> {
  const headers: Record<string, string> = {};
  if (jar?.id) headers.cookie = `sessionId=${jar.id}`;
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  const setId = setSessionId(res);
  if (jar && setId !== undefined) jar.id = setId || undefined;
  return { status: res.status, text, setId, res };
}

const logs: string[] = [];
const log = { access() {}, info: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m) };

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
let root: string;
const servers: { close(graceMs?: number): Promise<void> }[] = [];

async function serve(options: Record<string, unknown> = {}): Promise<{ url: string; close(graceMs?: number): Promise<void> }> {
  const s = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, sessionStore: redis.url, sessionTtl: 600, ...options }, log);
  servers.push(s);
  return s;
}

describe.skipIf(SKIP_REDIS)('Redis session store', () => {
  let base: string;

  beforeAll(async () => {
    redis = await startRedis();
    client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    root = tempSite(SITE);
    base = (await serve({ production: true })).url;
  });

  afterAll(async () => {
    for (const s of servers) await s.close(200);
    if (client?.isOpen) client.destroy();
    await redis?.stop();
  });

  it('keeps a session in Redis: one hash per session, values stored with v8.serialize, sent with the cookie flags of SPEC §5', async () => {
    const jar: Jar = {};
    const first = await get(base, '/count', jar);
    expect(first.text.trim()).toBe('1');
    expect(jar.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    const cookie = first.res.headers.getSetCookie().find((c) => c.startsWith('sessionId='))!;
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const second = await get(base, '/count', jar);
    expect(second.text.trim()).toBe('2');
    expect(second.setId).toBeUndefined(); // known session: no new cookie
    expect(await client.exists(`kts:sess:${jar.id}`)).toBe(1);
    expect(await client.type(`kts:sess:${jar.id}`)).toBe('hash');
  });

  it('sends no cookie and writes nothing for pages that never call Session()', async () => {
    const keysBefore = await client.dbSize();
    const r = await get(base, '/plain');
    expect(r.text).toContain('no session here');
    expect(r.res.headers.getSetCookie()).toHaveLength(0);
    expect(await client.dbSize()).toBe(keysBefore);
  });

  it('keeps an empty session: a page that only reads Session() gets the same id next time', async () => {
    const jar: Jar = {};
    expect((await get(base, '/peek', jar)).text.trim()).toBe('0');
    const id = jar.id;
    expect(id).toBeTruthy();
    const again = await get(base, '/peek', jar);
    expect(again.setId).toBeUndefined();
    expect(jar.id).toBe(id);
  });

  it('sessions survive a restart of the web server (and are shared by two servers on the same Redis)', async () => {
    const a = await serve();
    const jar: Jar = {};
    await get(a.url, '/set?k=user&v=ann', jar);
    const other = await serve();
    expect(JSON.parse((await get(other.url, '/get', jar)).text)).toEqual({ user: 'ann' });
    await a.close(200);
    await other.close(200);
    const b = await serve();
    const r = await get(b.url, '/get', jar);
    expect(r.setId).toBeUndefined();
    expect(JSON.parse(r.text)).toEqual({ user: 'ann' });
  });

  it('keeps structured-clone values: Map, Set, Date, nested objects, bigint, typed arrays, undefined', async () => {
    const jar: Jar = {};
    expect((await get(base, '/types-set', jar)).status).toBe(200);
    const r = await get(base, '/types-get', jar);
    expect(JSON.parse(r.text)).toEqual({
      map: 1,
      set: [1, 2],
      date: '1970-01-02T00:00:00.000Z',
      nested: { list: [1, { deep: true }], n: null },
      big: '100000000000000000000',
      bytes: [1, 2, 3],
      und: true,
    });
  });

  it('saves only the keys that changed: 20 concurrent requests setting different keys all keep their change', async () => {
    const jar: Jar = {};
    await get(base, '/set?k=base&v=0', jar);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => get(base, `/set?k=key${i}&v=${i}&wait=40`, jar)));
    for (const r of results) expect(r.status).toBe(200);
    const data = JSON.parse((await get(base, '/get', jar)).text) as Record<string, string>;
    const expected: Record<string, string> = { base: '0' };
    for (let i = 0; i < 20; i++) expected[`key${i}`] = String(i);
    expect(data).toEqual(expected);
    // A deleted key is deleted in Redis too, the others stay.
    await get(base, '/del?k=key3', jar);
    const after = JSON.parse((await get(base, '/get', jar)).text) as Record<string, string>;
    expect(after.key3).toBeUndefined();
    expect(after.key4).toBe('4');
    expect(Number(await client.hExists(`kts:sess:${jar.id}`, 'k:key3'))).toBe(0);
  });

  it('sets the TTL (--session-ttl) on every key it writes, refreshed by each request that uses the session; 0 = no expiry', async () => {
    const jar: Jar = {};
    await get(base, '/count', jar);
    const ttl = await client.ttl(`kts:sess:${jar.id}`);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    // Refreshed even when nothing changed.
    await client.expire(`kts:sess:${jar.id}`, 30);
    await get(base, '/peek', jar);
    expect(await client.ttl(`kts:sess:${jar.id}`)).toBeGreaterThan(590);
    // Every key in Redis that the store wrote has a TTL.
    for (let i = 0; i < 3; i++) await get(base, '/count', {});
    const keys = await client.keys('kts:*');
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) expect(await client.ttl(key), key).toBeGreaterThan(0);
    // --session-ttl 0: no expiry.
    const forever = await serve({ sessionTtl: 0 });
    const j2: Jar = {};
    await get(forever.url, '/count', j2);
    expect(await client.ttl(`kts:sess:${j2.id}`)).toBe(-1);
  });

  it('a session expires in Redis after the TTL: its id is then unknown and a new session starts', async () => {
    const short = await serve({ sessionTtl: 1 });
    const jar: Jar = {};
    await get(short.url, '/set?k=a&v=1', jar);
    const old = jar.id;
    await sleep(2100);
    const r = await get(short.url, '/get', jar);
    expect(JSON.parse(r.text)).toEqual({});
    expect(r.setId).toBeTruthy();
    expect(r.setId).not.toBe(old);
  });

  it('never adopts an id Redis does not know (forged or expired): a new session with a new id', async () => {
    const forged = 'AAAAAAAAAAAAAAAAAAAAAA';
    const jar: Jar = { id: forged };
    const r = await get(base, '/count', jar);
    expect(r.text.trim()).toBe('1');
    expect(r.setId).toBeTruthy();
    expect(r.setId).not.toBe(forged);
    expect(await client.exists(`kts:sess:${forged}`)).toBe(0);
    expect(await client.exists(`kts:sess:${r.setId}`)).toBe(1);
  });

  it('a value that cannot be serialised makes the request a 500 naming the key; the session keeps its last good state', async () => {
    const dev = await serve(); // development: the error page shows the message
    const jar: Jar = {};
    await get(dev.url, '/set?k=n&v=1', jar);
    const before = await client.hGetAll(`kts:sess:${jar.id}`);
    const r = await get(dev.url, '/bad', jar);
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/Session value (&quot;|")cb(&quot;|") cannot be stored in Redis/);
    expect(logs.join('\n')).toMatch(/Session value "cb" cannot be stored in Redis/);
    expect(await client.hGetAll(`kts:sess:${jar.id}`)).toEqual(before);
    expect(JSON.parse((await get(dev.url, '/get', jar)).text)).toEqual({ n: '1' });
    // A new session whose first request fails is not created at all.
    const keys = await client.dbSize();
    expect((await get(dev.url, '/bad', {})).status).toBe(500);
    expect(await client.dbSize()).toBe(keys);
  });

  it('close() deletes the session in Redis and clears the cookie; the old id then starts a new, empty session', async () => {
    const jar: Jar = {};
    await get(base, '/set?k=secret&v=1', jar);
    const old = jar.id!;
    const r = await get(base, '/close', jar);
    expect(r.text).toContain('closed');
    const cleared = r.res.headers.getSetCookie().find((c) => c.startsWith('sessionId='))!;
    expect(cleared).toMatch(/^sessionId=;/);
    expect(cleared).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect(await client.exists(`kts:sess:${old}`)).toBe(0);
    const again = await get(base, '/get', { id: old });
    expect(JSON.parse(again.text)).toEqual({});
    expect(again.setId).toBeTruthy();
    expect(again.setId).not.toBe(old);
  });

  it('Session() after close() in the same request starts a new session', async () => {
    const jar: Jar = {};
    await get(base, '/set?k=a&v=1', jar);
    const old = jar.id!;
    const r = await get(base, '/close-reopen', jar);
    expect(r.text.trim()).toBe('1');
    expect(jar.id).toBeTruthy();
    expect(jar.id).not.toBe(old);
    expect(await client.exists(`kts:sess:${old}`)).toBe(0);
    expect(JSON.parse((await get(base, '/get', jar)).text)).toEqual({ fresh: 'yes' });
  });

  it('regenerate() gives a new id with the same data; the old id is dead', async () => {
    const jar: Jar = {};
    await get(base, '/set?k=user&v=bob', jar);
    const old = jar.id!;
    const r = await get(base, '/regen', jar);
    expect(r.setId).toBeTruthy();
    expect(r.setId).not.toBe(old);
    expect(JSON.parse((await get(base, '/get', jar)).text)).toEqual({ user: 'bob', after: 'regen' });
    expect(await client.exists(`kts:sess:${old}`)).toBe(0);
    expect(await client.ttl(`kts:sess:${jar.id}`)).toBeGreaterThan(0);
    const stale = await get(base, '/get', { id: old });
    expect(JSON.parse(stale.text)).toEqual({});
    expect(stale.setId).not.toBe(old);
  });

  it('an included script shares the session of the page', async () => {
    const jar: Jar = {};
    expect((await get(base, '/include', jar)).text.trim()).toBe('2');
    expect(JSON.parse((await get(base, '/get', jar)).text)).toEqual({ outer: 1, inner: 2 });
  });

  it('Redis down: requests using a session get 503 (others still work), the server keeps running and recovers when Redis is back', async () => {
    const s = await serve();
    const jar: Jar = {};
    await get(s.url, '/count', jar);
    logs.length = 0;
    await redis.stop();
    try {
      const started = Date.now();
      const down = await get(s.url, '/count', jar);
      expect(down.status).toBe(503);
      expect(down.text).toMatch(/session store is unavailable/i);
      expect(Date.now() - started).toBeLessThan(4000); // fails fast, no queue
      expect((await get(s.url, '/count', {})).status).toBe(503); // a new session cannot be saved either
      expect((await get(s.url, '/plain', jar)).status).toBe(200);
      expect(logs.join('\n')).toMatch(/session store .*redis:\/\/127\.0\.0\.1:\d+/i);
    } finally {
      await redis.start();
    }
    // Back (empty, as this test Redis keeps nothing on disk): the server recovers by itself.
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      status = (await get(s.url, '/count', jar)).status;
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
    expect((await get(s.url, '/count', jar)).text.trim()).toBe('2');
    // The test client reconnects too.
    for (let i = 0; i < 50 && !client.isReady; i++) await sleep(100);
  });

  it('a Redis that stops answering (frozen) gives 503 after a bounded wait, then recovers', async () => {
    const s = await serve();
    const jar: Jar = {};
    await get(s.url, '/count', jar);
    redis.pause();
    try {
      const started = Date.now();
      const r = await get(s.url, '/count', jar);
      expect(r.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      redis.resume();
    }
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      status = (await get(s.url, '/count', jar)).status;
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
  }, 20_000);

  it('cannot start when Redis is unreachable: createServer rejects, the CLI prints one line and exits 1', async () => {
    const port = await freePort();
    await expect(createServer({ root, port: 0, host: '127.0.0.1', quiet: true, sessionStore: `redis://127.0.0.1:${port}` }, log)).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    const r = await runCli(['serve', root, '--port', '0', '--session-store', `redis://user:hunter2@127.0.0.1:${port}/2`]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/2/);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr).not.toContain('    at ');
  });

  it('a Redis that hangs (accepts, never answers) is not waited for forever', async () => {
    // A TCP server that accepts and stays silent: the start fails within a few seconds.
    const silent = net.createServer((socket) => void socket.on('data', () => {}));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    try {
      await expect(createServer({ root, port: 0, host: '127.0.0.1', quiet: true, sessionStore: `redis://127.0.0.1:${port}` }, log)).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      silent.close();
    }
  }, 20_000);
});
