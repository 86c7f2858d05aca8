/** Authentication(), AUTH_USER, AUTH_PASSWORD (SPEC §4): HTTP Basic, against the real server. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer } from '../dist/index.js';
import { parseBasicAuth, basicChallenge } from '../dist/names/auth.js';
import { tempSite, rawRequest, sleep } from './helpers.js';

const JSON_OUT = 'RESPONSE.headers["content-type"] = "application/json";\n';

let url: string;
let close: () => Promise<void>;
const errors: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const root = tempSite({
    'who.ts': `${JSON_OUT}print(JSON.stringify({ user: AUTH_USER === undefined ? "<undefined>" : AUTH_USER, password: AUTH_PASSWORD === undefined ? "<undefined>" : AUTH_PASSWORD }));\n`,
    'guard.ts':
      'RESPONSE.headers["x-before"] = "set-before-auth";\nprint("PRINTED-BEFORE");\n' +
      'Authentication(() => AUTH_USER === "ann" && AUTH_PASSWORD === "pw:with:colons");\n' +
      'print("SECRET for " + AUTH_USER);\n',
    'guard-async.ts':
      'await Authentication(async () => {\n  await new Promise((r) => setTimeout(r, 20));\n  return AUTH_USER === "ann" && AUTH_PASSWORD === "pw";\n}, "Async realm", "async says no");\n' +
      'print("ASYNC-SECRET for " + AUTH_USER);\n',
    'guard-noawait.ts':
      '// the author forgot await: the response must still be a 401\n' +
      'void Authentication(async () => { await new Promise((r) => setTimeout(r, 30)); return AUTH_USER === "ann"; });\n' +
      'print("NOAWAIT-SECRET");\n',
    'guard-noawait-slow.ts':
      '// no await, and the script goes on waiting after the test has failed\n' +
      'void Authentication(async () => false);\nawait new Promise((r) => setTimeout(r, 60));\nprint("SLOW-SECRET");\n',
    'guard-thenable.ts': 'await Authentication(() => ({ then(ok: (v: boolean) => void) { ok(QUERY.ok === "1"); } }) as unknown as Promise<boolean>);\nprint("THENABLE-OK");\n',
    'guard-truthy.ts': 'Authentication((() => AUTH_PASSWORD) as unknown as () => boolean);\nprint("TRUTHY-SECRET");\n',
    'guard-throws.ts': 'Authentication(() => { throw new Error("user database is down"); });\nprint("NEVER");\n',
    'guard-async-throws.ts': 'await Authentication(async () => { throw new Error("async database is down"); });\nprint("NEVER");\n',
    'realm.ts': 'Authentication(() => false, String(QUERY.realm), String(QUERY.msg ?? "Authentication required"));\nprint("NEVER");\n',
    'defaults.ts': 'Authentication(() => false);\nprint("NEVER");\n',
    'open.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nprint("open page");\n',
  });
  const running = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true }, {
    access() {},
    info() {},
    error: (m: string) => void errors.push(m),
  });
  url = running.url;
  close = () => running.close(500);
});

afterAll(async () => {
  await close?.();
  process.off('unhandledRejection', onUnhandled);
});

const basic = (userPass: string | Buffer): string => 'Basic ' + Buffer.from(userPass).toString('base64');

async function who(authorization?: string): Promise<{ user: string; password: string }> {
  const res = await rawRequest(url, '/who', { headers: authorization === undefined ? {} : { authorization } });
  expect(res.status, res.text).toBe(200);
  return JSON.parse(res.text) as { user: string; password: string };
}

const NONE = { user: '<undefined>', password: '<undefined>' };

describe('AUTH_USER / AUTH_PASSWORD', () => {
  it('are undefined without an Authorization header', async () => {
    expect(await who()).toEqual(NONE);
  });

  it('decode a Basic header', async () => {
    expect(await who(basic('ann:secret'))).toEqual({ user: 'ann', password: 'secret' });
  });

  it('are undefined for another scheme', async () => {
    expect(await who('Bearer ' + Buffer.from('ann:secret').toString('base64'))).toEqual(NONE);
    expect(await who('Digest username="ann"')).toEqual(NONE);
    expect(await who('Basicx ' + Buffer.from('ann:secret').toString('base64'))).toEqual(NONE);
  });

  it('are undefined for bad base64, a missing token or a missing colon', async () => {
    expect(await who('Basic !!!not-base64!!!')).toEqual(NONE);
    expect(await who('Basic YW5u=OnB3')).toEqual(NONE); // padding in the middle
    expect(await who('Basic YW5uOnB3Z')).toEqual(NONE); // impossible length
    expect(await who('Basic')).toEqual(NONE);
    expect(await who('Basic ')).toEqual(NONE);
    expect(await who(basic('no-colon-here'))).toEqual(NONE);
  });

  it('accept the scheme in any case and surrounding whitespace', async () => {
    expect(await who('bAsIc ' + Buffer.from('ann:pw').toString('base64'))).toEqual({ user: 'ann', password: 'pw' });
    expect(await who('  BASIC    ' + Buffer.from('ann:pw').toString('base64') + '   ')).toEqual({ user: 'ann', password: 'pw' });
  });

  it('accept a token without its = padding', async () => {
    const token = Buffer.from('ann:pw1').toString('base64');
    expect(token.endsWith('=')).toBe(true);
    expect(await who('Basic ' + token.replace(/=+$/, ''))).toEqual({ user: 'ann', password: 'pw1' });
  });

  it('split at the first colon: the password may contain colons', async () => {
    expect(await who(basic('ann:pw:with:colons'))).toEqual({ user: 'ann', password: 'pw:with:colons' });
    expect(await who(basic('ann::'))).toEqual({ user: 'ann', password: ':' });
  });

  it('keep an empty password or an empty user name (present, not undefined)', async () => {
    expect(await who(basic('ann:'))).toEqual({ user: 'ann', password: '' });
    expect(await who(basic(':pw'))).toEqual({ user: '', password: 'pw' });
  });

  it('decode UTF-8 user names and passwords', async () => {
    expect(await who(basic('Zoë:pässwörd'))).toEqual({ user: 'Zoë', password: 'pässwörd' });
    expect(await who(basic('用户:密码🔑'))).toEqual({ user: '用户', password: '密码🔑' });
  });

  it('fall back to ISO-8859-1 for bytes that are not UTF-8 (legacy clients)', async () => {
    expect(await who(basic(Buffer.from('Zo\xeb:caf\xe9', 'latin1')))).toEqual({ user: 'Zoë', password: 'café' });
  });

  it('parseBasicAuth: the same rules, directly', () => {
    expect(parseBasicAuth(undefined)).toBeUndefined();
    expect(parseBasicAuth(['Basic YTpi'])).toBeUndefined();
    expect(parseBasicAuth('Basic YTpi')).toEqual({ user: 'a', password: 'b' });
    expect(parseBasicAuth('Basic YTpi\r\n')).toEqual({ user: 'a', password: 'b' });
    expect(parseBasicAuth('Basic YT pi')).toBeUndefined();
    expect(parseBasicAuth('Basic ' + 'A'.repeat(20_000))).toBeUndefined();
  });
});

describe('Authentication()', () => {
  it('answers 401 with WWW-Authenticate, the message as a text body, and stops the script', async () => {
    const res = await rawRequest(url, '/guard');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="karrigell-ts", charset="UTF-8"');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text.trim()).toBe('Authentication required');
    expect(res.text).not.toContain('SECRET');
    expect(res.text).not.toContain('PRINTED-BEFORE');
  });

  it('answers 401 for wrong credentials, without the rest of the page', async () => {
    for (const auth of [basic('ann:wrong'), basic('bob:pw:with:colons'), 'Bearer xyz', 'Basic %%%']) {
      const res = await rawRequest(url, '/guard', { headers: { authorization: auth } });
      expect(res.status, auth).toBe(401);
      expect(res.headers['www-authenticate'], auth).toMatch(/^Basic realm=/);
      expect(res.text, auth).not.toContain('SECRET');
    }
  });

  it('lets the script go on when test() returns true', async () => {
    const res = await rawRequest(url, '/guard', { headers: { authorization: basic('ann:pw:with:colons') } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('PRINTED-BEFORE');
    expect(res.text).toContain('SECRET for ann');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers['x-before']).toBe('set-before-auth');
  });

  it('accepts only true: a truthy non-boolean is not a login', async () => {
    const res = await rawRequest(url, '/guard-truthy', { headers: { authorization: basic('anyone:any-password') } });
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('TRUTHY-SECRET');
  });

  it('uses the default realm and message', async () => {
    const res = await rawRequest(url, '/defaults');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="karrigell-ts", charset="UTF-8"');
    expect(res.text).toBe('Authentication required\n');
  });

  it('sends the given realm and message', async () => {
    const res = await rawRequest(url, '/realm?realm=Members%20only&msg=' + encodeURIComponent('Members only: log in as "demo" / "secret" — merci'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="Members only", charset="UTF-8"');
    expect(res.text).toBe('Members only: log in as "demo" / "secret" — merci\n');
  });

  it('escapes " and \\ in the realm', async () => {
    const res = await rawRequest(url, '/realm?realm=' + encodeURIComponent('a "quoted" \\ realm'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="a \\"quoted\\" \\\\ realm", charset="UTF-8"');
    expect(basicChallenge('x"y\\z')).toBe('Basic realm="x\\"y\\\\z", charset="UTF-8"');
  });

  it('sends a non-ASCII realm as ASCII: accents dropped, the rest percent-encoded (same bytes for GET and HEAD)', async () => {
    const expected = 'Basic realm="Espace prive %E7%94%A8%E6%88%B7", charset="UTF-8"';
    for (const method of ['GET', 'HEAD']) {
      const res = await rawRequest(url, '/realm?realm=' + encodeURIComponent('Espace privé 用户'), { method });
      expect(res.status, method).toBe(401);
      expect(res.headers['www-authenticate'], method).toBe(expected);
    }
    expect(basicChallenge('bad \uD800 surrogate')).toBe('Basic realm="bad %EF%BF%BD surrogate", charset="UTF-8"');
    expect(basicChallenge('Zoë "ü"')).toBe('Basic realm="Zoe \\"u\\"", charset="UTF-8"');
  });

  it('rejects CR/LF in the realm with a TypeError naming the call (a script error, no header injection)', async () => {
    for (const realm of ['evil\r\nSet-Cookie: x=1', 'line\nbreak', 'cr\ronly']) {
      const res = await rawRequest(url, '/realm?realm=' + encodeURIComponent(realm));
      expect(res.status, realm).toBe(500);
      expect(res.headers['set-cookie'], realm).toBeUndefined();
      expect(res.headers['www-authenticate'], realm).toBeUndefined();
      expect(res.text, realm).toContain('Authentication: the realm');
      expect(res.text, realm).toContain('TypeError');
    }
    expect(() => basicChallenge('a\nb')).toThrow(TypeError);
    expect(() => basicChallenge('a\nb')).toThrow(/^Authentication:/);
  });

  it('lets an error thrown by test() through as a script error (500)', async () => {
    const res = await rawRequest(url, '/guard-throws');
    expect(res.status).toBe(500);
    expect(res.text).toContain('user database is down');
    expect(res.headers['www-authenticate']).toBeUndefined();
    const res2 = await rawRequest(url, '/guard-async-throws');
    expect(res2.status).toBe(500);
    expect(res2.text).toContain('async database is down');
    expect(errors.some((e) => e.includes('user database is down'))).toBe(true);
  });

  it('await Authentication(async test): 401 when it resolves false', async () => {
    for (const headers of [{}, { authorization: basic('ann:nope') }] as Record<string, string>[]) {
      const res = await rawRequest(url, '/guard-async', { headers });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="Async realm", charset="UTF-8"');
      expect(res.text).toBe('async says no\n');
    }
  });

  it('await Authentication(async test): the page when it resolves true', async () => {
    const res = await rawRequest(url, '/guard-async', { headers: { authorization: basic('ann:pw') } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('ASYNC-SECRET for ann');
  });

  it('a thenable test result is awaited like a promise', async () => {
    expect((await rawRequest(url, '/guard-thenable?ok=1')).text).toContain('THENABLE-OK');
    const res = await rawRequest(url, '/guard-thenable?ok=0');
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('THENABLE-OK');
  });

  it('an async Authentication that is not awaited still answers 401, never the page, and crashes nothing', async () => {
    const res = await rawRequest(url, '/guard-noawait');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm="karrigell-ts"/);
    expect(res.text).not.toContain('NOAWAIT-SECRET');
    const ok = await rawRequest(url, '/guard-noawait', { headers: { authorization: basic('ann:x') } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('NOAWAIT-SECRET');
    const slow = await rawRequest(url, '/guard-noawait-slow');
    expect(slow.status).toBe(401);
    expect(slow.text).not.toContain('SLOW-SECRET');
    await sleep(50);
    expect(unhandled).toEqual([]);
  });

  it('concurrent requests each see their own credentials', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rawRequest(url, '/guard-async', { headers: i % 2 ? { authorization: basic('ann:pw') } : { authorization: basic(`user${i}:pw`) } })),
    );
    results.forEach((res, i) => expect(res.status, String(i)).toBe(i % 2 ? 200 : 401));
  });

  it('the server keeps serving other pages', async () => {
    const res = await rawRequest(url, '/open');
    expect(res.status).toBe(200);
    expect(res.text).toBe('open page\n');
  });
});
