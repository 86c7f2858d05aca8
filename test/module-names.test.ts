/**
 * The names of a page's scope in a site's own modules (SPEC §4, "In a site's
 * own modules"): `_lib/user.ts` may call Session(), read QUERY, print …, and
 * they mean the request being served, also after an `await`, also with 100
 * requests at once. Used while no request is served (top level, a timer
 * started at load) they throw an error that names the name and says why.
 * `karrigell-ts check` accepts what runs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import { testSite, type TestSite } from '../dist/testing.js';
import { runCli, tempSite } from './helpers.js';

const USER_MODULE = `
// A helper that uses the request's names: they mean the page's request, also after an await.
export async function greet(delayMs: number): Promise<string> {
  const so = Session();
  so.visits = (so.visits ?? 0) + 1;
  const before = QUERY.id;
  await new Promise((r) => setTimeout(r, delayMs));
  print(\`before=\${before} after=\${QUERY.id} short=\${_id} visits=\${so.visits} cookie=\${COOKIE.tag ?? '-'}\`);
  RESPONSE.headers['x-user'] = String(QUERY.id);
  return String(QUERY.id);
}

// Names that are the same for every request work anywhere, also at the top level.
export const banner = html\`<b>\${'<top>'}</b>\`;

export function guard(): void {
  if (QUERY.deny) HTTP_ERROR(403, 'denied by the module');
}

/** A local variable named like a scope name stays local. */
export function shadow(print: (s: string) => string): string {
  const QUERY = { id: 'local' };
  return print(QUERY.id);
}

export function name(): string {
  return \`\${THIS.scriptUrl} \${REQUEST_HANDLER.method} \${ACCEPTED_LANGUAGES.join('|')} \${typeof Include}\`;
}
`;

const TIMER_MODULE = `
export let timerError = 'not run yet';
setTimeout(() => {
  try {
    void QUERY.x;
    timerError = 'no error';
  } catch (err) {
    timerError = (err as Error).message;
  }
}, 0);
`;

let root: string;
let site: TestSite;

beforeAll(async () => {
  root = tempSite({
    '_lib/user.ts': USER_MODULE,
    '_lib/top.ts': 'export const atLoad = QUERY;\n',
    '_lib/timer.ts': TIMER_MODULE,
    'greet.ts': "import { greet, banner, guard, shadow, name } from './_lib/user.ts';\nguard();\nawait greet(Number(QUERY.delay ?? 0));\nprint(banner, shadow((s) => s + '!'), name());\n",
    'top.ts': "import { atLoad } from './_lib/top.ts';\nprint(atLoad);\n",
    'timer.ts': "import * as t from './_lib/timer.ts';\nawait new Promise((r) => setTimeout(r, 20));\nprint(t.timerError);\n",
    'service.ts': "import { greet } from './_lib/user.ts';\nexport async function hello() { await greet(1); }\n",
    'outer.ts': "print('outer');\nawait Include('_inner.ts', { label: 'x' });\n",
    '_inner.ts': "import { greet } from './_lib/user.ts';\nawait greet(1);\n",
    'nomodules.ts': "print('plain');\n",
    '_lib/late.ts': "export let lateError = '';\nexport function startLate(): void {\n  setTimeout(() => {\n    try { void QUERY.id; lateError = 'no error'; } catch (err) { lateError = (err as Error).message; }\n  }, 30);\n}\n",
    'late.ts': "import * as late from './_lib/late.ts';\nif (QUERY.read) print(late.lateError);\nelse { late.startLate(); print('started'); }\n",
  });
  site = await testSite(root);
});
afterAll(async () => site?.close());

describe('request names in a site module', () => {
  it('Session(), QUERY, _name, COOKIE, print and RESPONSE mean the page’s request, also after an await', async () => {
    const r = await site.get('/greet?id=7&delay=5', { headers: { cookie: 'tag=t1', 'accept-language': 'fr, en;q=0.5' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-user')).toBe('7');
    expect(r.text).toContain('before=7 after=7 short=7 visits=1 cookie=t1');
    expect(r.text).toContain('<b>&lt;top&gt;</b>');
    expect(r.text).toContain('local!');
    expect(r.text).toContain('/greet GET fr|en function');
    // The session the module opened is this visitor's: the second visit counts 2.
    expect((await site.get('/greet?id=8')).text).toContain('visits=2');
  });

  it('HTTP_ERROR thrown by a module stops the page', async () => {
    const r = await site.get('/greet?deny=1', { headers: { accept: 'text/plain' } });
    expect(r.status).toBe(403);
    expect(r.text).toContain('denied by the module');
  });

  it('a service and an included script: the module writes into their output', async () => {
    const s = await site.get('/service/hello?id=svc');
    expect(s.status).toBe(200);
    expect(s.text).toContain('before=svc after=svc');
    const inc = await site.get('/outer?id=inc');
    expect(inc.text).toMatch(/^outer\nbefore=inc after=inc/);
  });

  it('100 concurrent requests each see their own request and session', async () => {
    const visitors = Array.from({ length: 100 }, () => site.visitor());
    // Different delays make the requests' awaits interleave.
    const answers = await Promise.all(visitors.map((v, i) => v.get(`/greet?id=${i}&delay=${(i * 7) % 23}`, { headers: { cookie: `tag=c${i}` } })));
    answers.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.text).toContain(`before=${i} after=${i} short=${i} visits=1 cookie=c${i}`);
      expect(r.headers.get('x-user')).toBe(String(i));
    });
    // Each visitor got its own session: a second round counts 2 for everyone.
    const again = await Promise.all(visitors.map((v, i) => v.get(`/greet?id=${i}&delay=${(i * 5) % 17}`)));
    again.forEach((r, i) => expect(r.text).toContain(`before=${i} after=${i} short=${i} visits=2`));
  });

  it('at a module’s top level (no request): an error that names the name and says why', async () => {
    const r = await site.get('/top', { headers: { accept: 'text/html' } });
    expect(r.status).toBe(500);
    expect(r.text).toContain('QUERY was used while no request is being served');
    expect(r.text).toContain('top level');
    expect(r.text).toContain('_lib/top.ts:1:');
  });

  it('in a timer started when the module was loaded: the same error', async () => {
    const r = await site.get('/timer');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^QUERY was used while no request is being served.*timer/);
  });

  it('in a timer a page’s call started that runs after the answer was sent: an error that says so', async () => {
    const r = await site.get('/late?id=1');
    expect(r.text).toBe('started\n');
    let text = '';
    for (let i = 0; i < 100 && !text.includes('answered'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      text = (await site.get('/late?read=1')).text;
    }
    expect(text).toMatch(/^QUERY was used after its request was answered/);
  });

  it('a page whose site has no module using the names still answers (no request storage needed)', async () => {
    expect((await site.get('/nomodules')).text).toBe('plain\n');
  });
});

describe('karrigell-ts check agrees with what runs', () => {
  it('a module using the names type-checks; a type error in it is reported at its line', async () => {
    const ok = tempSite({
      '_lib/user.ts': "export function who(): string {\n  const so = Session();\n  SET_LANGUAGE('fr');\n  print(_('Hello'), _id);\n  return String(QUERY.id ?? so.name ?? '');\n}\n",
      '_lib/db.ts': "const timer = setInterval(() => {}, 1000);\nimport.meta.hot?.dispose(() => clearInterval(timer));\nexport const where = import.meta.dirname;\n",
      'index.ts': "import { who } from './_lib/user.ts';\nimport { where } from './_lib/db.ts';\nprint(who(), where);\n",
    });
    const good = await runCli(['check', ok], 60_000);
    expect(good.stdout).toContain('no type errors in 3 scripts');
    expect(good.code).toBe(0);
    const bad = tempSite({ '_lib/user.ts': 'export function who(): number {\n  return QUERY.id.length;\n}\n' });
    const out = await runCli(['check', bad], 60_000);
    expect(out.code).toBe(1);
    expect(out.stdout + out.stderr).toContain(path.join('_lib', 'user.ts') + ':2:');
  }, 150_000);
});
