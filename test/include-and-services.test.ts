// Issue 4 over HTTP: Include(), .tsx pages and services, .tsp pages and their error lines.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer } from '../dist/index.js';
import { tempSite } from './helpers.js';

const SITE = {
  'inc.ts': [
    "print('<body>');",
    "Include('_inc/head.ts', { title: '<T>' });",
    "print('middle');",
    "Include('_inc/slow.ts');",
    "await Include('_inc/foot.html');",
    "print('</body>');",
  ].join('\n'),
  '_inc/head.ts': 'print(html`<h1>${title}</h1>`, QUERY.who ?? "-", Session().seen = "yes");\n',
  '_inc/slow.ts': "await new Promise((r) => setTimeout(r, 30));\nprint('slow');\n",
  '_inc/foot.html': '<footer>static</footer>\n',
  'sub/rel.ts': "await Include('../_inc/foot.html');\n",
  'session.ts': "await Include('_inc/head.ts', { title: 't' });\nprint(Session().seen);\n",
  'query.ts': "await Include('_inc/mark.ts');\nprint(QUERY.marked, QUERY.q);\n",
  '_inc/mark.ts': "QUERY.marked = 'by the included script';\n",
  'a.ts': "await Include('_inc/b.ts');\n",
  '_inc/b.ts': "await Include('../a.ts');\n",
  'outer.ts': "print('before');\nawait Include('_inc/bad.ts');\n",
  '_inc/bad.ts': 'const n: number = 2;\nthrow new Error("inner failure " + n);\n',
  'missing.ts': "await Include('_inc/nope.ts');\n",
  'page.tsx': [
    'function Item({ name }: { name: string }) {',
    '  return <li class={name}>{name}</li>;',
    '}',
    "const names = ['a', '<b>'];",
    '<ul>{names.map((n) => <Item name={n} />)}</ul>;',
    'print(<p title={\'"q"\'}>{raw("<i>raw</i>")}</p>);',
  ].join('\n'),
  'svc.tsx': 'export function index() {\n  return <b>{QUERY.x ?? "none"}</b>;\n}\n',
  'list.tsp': '<% const xs = [1, 2]; %><ul><% for (const x of xs) { %><li><%= x %><%- "<i>" %></li><% } %></ul><%= QUERY.q ?? "" %>\n',
  'broken.tsp': '<p>one</p>\n<p>two</p>\n<% const y: number = 3; %>\n<% if (QUERY.boom) { throw new Error("tsp boom " + y); } %>\n',
};

let server: Awaited<ReturnType<typeof createServer>>;
beforeAll(async () => {
  server = await createServer({ root: tempSite(SITE), port: 0, host: '127.0.0.1', quiet: true }, { access() {}, info() {}, error() {} });
});
afterAll(() => server.close());
const get = async (p: string, headers: Record<string, string> = {}) => {
  const res = await fetch(server.url + p, { headers });
  return { status: res.status, body: await res.text(), res };
};

describe('Include()', () => {
  it('inserts output and static text at the call point, in order even when not awaited, with the names passed', async () => {
    const { status, body } = await get('/inc?who=me');
    expect(status).toBe(200);
    expect(body).toBe('<body>\n<h1>&lt;T&gt;</h1> me yes\nmiddle\nslow\n<footer>static</footer>\n</body>\n');
  });

  it('resolves paths relative to the including script', async () => {
    expect((await get('/sub/rel')).body).toBe('<footer>static</footer>\n');
  });

  it('shares the request session with the included script', async () => {
    const { body } = await get('/session');
    expect(body).toContain('yes');
  });

  it('shares QUERY with the included script (one object, even when the page had not read it before)', async () => {
    expect(await (await fetch(server.url + '/query?q=2')).text()).toBe('by the included script 2\n');
  });

  it('reports a cycle clearly instead of hanging', async () => {
    const { status, body } = await get('/a');
    expect(status).toBe(500);
    expect(body).toContain('Include cycle: a.ts → _inc/b.ts → a.ts');
  });

  it('shows the include chain and the included file location on the error page', async () => {
    const { status, body } = await get('/outer');
    expect(status).toBe(500);
    expect(body).toContain('_inc/bad.ts:2:7');
    expect(body).toMatch(/Included from: <code>outer\.ts/);
  });

  it('names a missing file', async () => {
    const { status, body } = await get('/missing');
    expect(status).toBe(500);
    expect(body).toContain('Include: _inc/nope.ts not found');
  });
});

describe('.tsx pages and services', () => {
  it('prints top-level JSX statements, renders components and escapes text and attributes', async () => {
    const { body } = await get('/page');
    expect(body).toContain('<ul><li class="a">a</li><li class="&lt;b&gt;">&lt;b&gt;</li></ul>');
    expect(body).toContain('<p title="&quot;q&quot;"><i>raw</i></p>');
  });

  it('renders JSX returned by a service function', async () => {
    expect((await get('/svc/index?x=%3Cy%3E')).body).toBe('<b>&lt;y&gt;</b>');
  });
});

describe('.tsp pages', () => {
  it('runs control flow across tags, escapes <%= %> and not <%- %>', async () => {
    expect((await get('/list?q=%3Cq%3E')).body).toBe('<ul><li>1<i></li><li>2<i></li></ul>&lt;q&gt;\n');
  });

  it('reports a runtime error at the .tsp line and column with a .tsp code frame', async () => {
    const { status, body } = await get('/broken?boom=1');
    expect(status).toBe(500);
    expect(body).toMatch(/broken\.tsp:4:\d+/);
    expect(body).toContain('if (QUERY.boom) { throw new Error(&quot;tsp boom &quot; + y); }');
  });
});
