// Issue 3: Session() over HTTP with the bounded, flood-proof memory store.
import { describe, it, expect, afterAll } from 'vitest';
import { createServer } from '../dist/index.js';
import { tempSite, sleep } from './helpers.js';

const SITE = {
  'count.ts': 'const so = Session();\nso.visits = (so.visits ?? 0) + 1;\nprint(`visits=${so.visits}`);\n',
  'set.ts': 'const so = Session();\nso[String(QUERY.key)] = QUERY.value;\nawait new Promise((r) => setTimeout(r, Math.random() * 20));\nprint("ok");\n',
  'get.ts': 'print(JSON.stringify(Session()));\n',
  'close.ts': 'Session().close();\nprint("closed");\n',
  'regen.ts': 'const so = Session();\nso.kept = "yes";\nso.regenerate();\nprint("regenerated");\n',
  'same.ts': 'print(Session() === Session() ? "same" : "different");\n',
  'shape.ts': 'const so = Session();\nso.a = 1;\nconst { regenerate, close } = so;\nregenerate();\nconst same = so.close === close;\nprint(JSON.stringify({ keys: Object.keys(so), json: JSON.stringify(so), has: "close" in so, own: Object.getOwnPropertyNames(so), same }));\n',
  'plain.ts': 'print("no session here");\n',
  'keep.ts': 'class Cart { items: string[] = []; add(x: string) { this.items.push(x); return this.items.length; } }\nconst so = Session();\nso.cart ??= new Cart();\nso.fn ??= () => "fn kept";\nprint(so.cart.add(String(QUERY.item)), so.fn());\n',
};

const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function serve(options: Record<string, unknown> = {}) {
  const s = await createServer({ root: tempSite(SITE), port: 0, host: '127.0.0.1', quiet: true, production: true, ...options });
  servers.push(s);
  return s;
}

/** A client that keeps the sessionId cookie like a browser. */
function client(base: string) {
  let cookie = '';
  return {
    get cookie() {
      return cookie;
    },
    set cookie(v: string) {
      cookie = v;
    },
    async get(path: string): Promise<{ status: number; body: string; setCookie: string | null }> {
      const res = await fetch(base + path, { headers: cookie ? { cookie } : {} });
      const setCookie = res.headers.get('set-cookie');
      const m = setCookie && /sessionId=([^;]*)/.exec(setCookie);
      if (m) cookie = m[1] ? `sessionId=${m[1]}` : '';
      return { status: res.status, body: await res.text(), setCookie };
    },
  };
}

describe('Session()', () => {
  it('sends sessionId with Path=/; HttpOnly; SameSite=Lax, a 128-bit base64url id, only on the first visit', async () => {
    const { url } = await serve();
    const c = client(url);
    const first = await c.get('/count');
    expect(first.body).toBe('visits=1\n');
    expect(first.setCookie).toMatch(/^sessionId=[A-Za-z0-9_-]{22,}; Path=\/; HttpOnly; SameSite=Lax$/);
    const id = /sessionId=([^;]+)/.exec(first.setCookie!)![1]!;
    expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(16);
    const second = await c.get('/count');
    expect(second.body).toBe('visits=2\n');
    expect(second.setCookie).toBeNull();
  });

  it('ids are distinct across visitors', async () => {
    const { url } = await serve();
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const res = await fetch(url + '/count');
      ids.add(/sessionId=([^;]+)/.exec(res.headers.get('set-cookie')!)![1]!);
    }
    expect(ids.size).toBe(200);
  });

  it('pages that never call Session() send no cookie', async () => {
    const { url } = await serve();
    const res = await fetch(url + '/plain');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('returns the same object within a request', async () => {
    const { url } = await serve();
    expect(await (await fetch(url + '/same')).text()).toBe('same\n');
  });

  it('never adopts a forged or unknown id: a new session with a new id', async () => {
    const { url } = await serve();
    const forged = 'AAAAAAAAAAAAAAAAAAAAAA';
    const res = await fetch(url + '/count', { headers: { cookie: `sessionId=${forged}` } });
    expect(await res.text()).toBe('visits=1\n');
    const id = /sessionId=([^;]+)/.exec(res.headers.get('set-cookie')!)![1];
    expect(id).not.toBe(forged);
    // The forged id still knows nothing afterwards.
    const again = await fetch(url + '/count', { headers: { cookie: `sessionId=${forged}` } });
    expect(await again.text()).toBe('visits=1\n');
  });

  it('keeps two clients apart', async () => {
    const { url } = await serve();
    const a = client(url);
    const b = client(url);
    await a.get('/count');
    await a.get('/count');
    expect((await b.get('/count')).body).toBe('visits=1\n');
    expect((await a.get('/count')).body).toBe('visits=3\n');
  });

  it('keeps any value with the memory store: class instances and functions', async () => {
    const { url } = await serve();
    const c = client(url);
    await c.get('/keep?item=a');
    expect((await c.get('/keep?item=b')).body).toBe('2 fn kept\n');
  });

  it('a session object shows only its data; close and regenerate work even taken off it', async () => {
    const { url } = await serve();
    const c = client(url);
    await c.get('/count');
    const id = c.cookie;
    const shaped = await c.get('/shape');
    expect(JSON.parse(shaped.body)).toEqual({ keys: ['visits', 'a'], json: '{"visits":1,"a":1}', has: true, own: ['visits', 'a'], same: true });
    // The detached regenerate() gave the session a new id and kept its data.
    expect(c.cookie).not.toBe(id);
    expect(JSON.parse((await c.get('/get')).body)).toEqual({ visits: 1, a: 1 });
  });

  it('close() discards the session: the next request starts a new, empty one', async () => {
    const { url } = await serve();
    const c = client(url);
    await c.get('/count');
    await c.get('/count');
    const old = c.cookie;
    const closed = await c.get('/close');
    expect(closed.setCookie).toMatch(/sessionId=;.*Max-Age=0/);
    // Even a client that keeps sending the old cookie gets a new session.
    c.cookie = old;
    expect((await c.get('/count')).body).toBe('visits=1\n');
    expect(c.cookie).not.toBe(old);
  });

  it('regenerate() gives a new id, keeps the data, and the old id is dead', async () => {
    const { url } = await serve();
    const c = client(url);
    await c.get('/count');
    const old = c.cookie;
    const res = await c.get('/regen');
    expect(res.setCookie).toMatch(/^sessionId=[A-Za-z0-9_-]{22,}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(c.cookie).not.toBe(old);
    expect(JSON.parse((await c.get('/get')).body)).toEqual({ visits: 1, kept: 'yes' });
    const stale = await fetch(url + '/get', { headers: { cookie: old } });
    expect(JSON.parse(await stale.text())).toEqual({});
  });

  it('expires idle sessions after --session-ttl', async () => {
    const { url } = await serve({ sessionTtl: 1 });
    const c = client(url);
    await c.get('/count');
    expect((await c.get('/count')).body).toBe('visits=2\n');
    await sleep(1300);
    expect((await c.get('/count')).body).toBe('visits=1\n');
  });

  it('with a full store, evicts the least recently used of the sessions (plain LRU)', async () => {
    const { url, sessions } = await serve({ maxSessions: 3 });
    const cs = [client(url), client(url), client(url)];
    for (const c of cs) await c.get('/count');
    for (const c of cs) await c.get('/count'); // all three came back: all protected
    await cs[0]!.get('/count'); // 0 is now the most recent, 1 the least
    const newcomer = client(url);
    await newcomer.get('/count');
    expect(sessions.size).toBe(3);
    expect((await cs[1]!.get('/count')).body).toBe('visits=1\n'); // evicted
    expect((await cs[0]!.get('/count')).body).toBe('visits=4\n');
  });

  it('a flood of cookie-less requests cannot push out visitors who came back; the bound holds', async () => {
    const { url, sessions } = await serve({ maxSessions: 20 });
    const visitors = Array.from({ length: 10 }, () => client(url));
    for (const v of visitors) await v.get('/count');
    for (const v of visitors) await v.get('/count');
    let max = 0;
    for (let i = 0; i < 2000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => fetch(url + '/count').then((r) => r.text())));
      max = Math.max(max, sessions.size!);
    }
    expect(max).toBeLessThanOrEqual(20);
    for (const v of visitors) expect((await v.get('/count')).body).toBe('visits=3\n');
  });

  it('50 concurrent requests of one visitor changing different keys all keep their change', async () => {
    const { url } = await serve();
    const c = client(url);
    await c.get('/count');
    await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${url}/set?key=k${i}&value=v${i}`, { headers: { cookie: c.cookie } }).then((r) => r.text())));
    const data = JSON.parse((await c.get('/get')).body);
    for (let i = 0; i < 50; i++) expect(data[`k${i}`]).toBe(`v${i}`);
    expect(data.visits).toBe(1);
  });

  it('adds Secure to the cookie over HTTPS (as told by a trusted proxy)', async () => {
    const { url } = await serve({ trustProxy: true });
    const res = await fetch(url + '/count', { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
  });
});
