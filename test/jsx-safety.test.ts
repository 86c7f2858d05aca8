// Issue 14, SPEC §3 "safe by default": for any string that comes from the
// request, no JSX attribute or `.tsp` output tag yields a `javascript:` URL,
// an event handler, or a `</script` (or `<script`) inside a script element.
// fast-check drives the renderers directly (many runs); a bounded run goes
// through a real server over HTTP, where the strings are QUERY fields.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { transform } from 'esbuild';
import { jsx } from '../src/jsx-runtime.js';
import { tspEscaped, tspInTag } from '../src/html.js';
import { tspToTs } from '../src/syntax/tsp.js';
import { decodeEntities } from './html-normalise.js';
import { startServer, tempSite, type Running } from './helpers.js';

/** What a browser sees as the scheme: leading C0 controls and spaces stripped, tabs and newlines removed anywhere. */
const runsAsJavaScript = (value: string): boolean =>
  value.replace(/^[\u0000-\u0020]+/, '').replace(/[\t\n\r]/g, '').toLowerCase().startsWith('javascript:');

const URL_ATTRS = ['href', 'src', 'action', 'formAction', 'xlinkHref', 'poster', 'cite', 'data', 'background', 'ping'];
/** Attributes a browser navigates to or loads (lower case, as parsed). */
const URL_NAMES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'cite', 'data', 'background', 'ping']);
const TAGS = ['a', 'img', 'form', 'button', 'iframe', 'object', 'video', 'blockquote', 'div', 'svg'];

/** Attributes of every start tag: [tag, name (lower case), decoded value]. */
function attributesOf(html: string): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const m of html.matchAll(/<([A-Za-z][^\s/>]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g)) {
    for (const a of m[2]!.matchAll(/\s+([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
      out.push([m[1]!.toLowerCase(), a[1]!.toLowerCase(), decodeEntities(a[2] ?? a[3] ?? a[4] ?? '')]);
    }
  }
  return out;
}

/** The text of every script element (what the browser runs), or undefined if one is not closed where we closed it. */
function scriptBodies(html: string, count: number): string[] {
  const bodies = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi)].map((m) => m[1]!);
  expect(bodies.length).toBe(count);
  return bodies;
}

/** Strings an attacker would try, mixed with anything. */
const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('javascript:alert(1)', ' JavaScript:alert(1)', 'java\tscript:x', '\u0001javascript:x', 'jav&#x09;ascript:x', '</script><script>alert(1)</script>', '</SCRIPT >', '<!--<script>', '" onmouseover="alert(1)', "');alert(1)//", 'onclick=alert(1)'),
  fc.tuple(fc.constantFrom('javascript:', ' javascript:', '\njavascript:', 'JAVASCRIPT:', '</script', '<script'), fc.string()).map(([a, b]) => a + b),
);

describe('JSX: any string from the request', () => {
  it('never gives a javascript: URL in a URL attribute', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TAGS), fc.constantFrom(...URL_ATTRS), hostile, (tag, attr, value) => {
        const html = String(jsx(tag, { [attr]: value, children: 'x' }));
        for (const [, name, v] of attributesOf(html)) if (URL_NAMES.has(name)) expect(runsAsJavaScript(v), `${name}=${JSON.stringify(v)} in ${html}`).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('never gives an event handler, whatever the attribute name and value (props spread from the request)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('onclick', 'onClick', 'ONLOAD', 'onerror', 'href', 'style', 'srcdoc')), hostile), (props) => {
        const html = String(jsx('div', { ...props, children: 'x' }));
        for (const [, name, v] of attributesOf(html)) {
          expect(/^on./.test(name), `attribute ${name} in ${html}`).toBe(false);
          expect(name === 'srcdoc').toBe(false);
          if (['href', 'src', 'action'].includes(name)) expect(runsAsJavaScript(v)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a script element end early (or start another) from its text', () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 1, maxLength: 4 }), fc.constantFrom('script', 'SCRIPT'), (parts, tag) => {
        const html = String(jsx('div', { children: [jsx(tag, { type: 'application/json', children: parts.length === 1 ? parts[0] : parts }), 'after'] }));
        const [body] = scriptBodies(html, 1);
        expect(body).not.toMatch(/<\/?script/i);
        expect(html.endsWith('after</div>')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

/** Runs a compiled `.tsp` page with `value` as Q and returns its output. */
async function renderTsp(page: string): Promise<(value: unknown) => string> {
  const { code } = await transform(tspToTs(page, 'p.tsp'), { loader: 'ts' });
  const fn = new Function('__kts_out', '__kts_esc', '__kts_raw', '__kts_tag', 'Q', code);
  return (value) => {
    let out = '';
    fn((t: string) => (out += t), tspEscaped, (v: unknown) => (v == null ? '' : String(v)), tspInTag, value);
    return out;
  };
}

const TSP_PAGES = [
  '<a href="<%= Q %>">x</a>',
  "<a href='<%= Q %>'>x</a>",
  '<a href=<%= Q %>>x</a>',
  '<a href="  <%= Q %>">x</a>',
  '<img src="<%= Q %>" alt="<%= Q %>">',
  '<form action="<%= Q %>"><button formaction="<%= Q %>">b</button></form>',
  '<button onclick="go(\'<%= Q %>\')">b</button>',
  '<button onclick="go(<%= Q %>)">b</button>',
  '<div onmouseover=<%= Q %>>b</div>',
  '<input <%= Q %>>',
  '<input value="<%= Q %>" <%= Q %>>',
  '<p title=<%= Q %>>t</p>',
  '<p><%= Q %></p>',
];

describe('.tsp: any string from the request', () => {
  it('never gives a javascript: URL, an event handler it did not write, or a script element ended early', async () => {
    const pages = await Promise.all(TSP_PAGES.map(renderTsp));
    const scriptPage = await renderTsp('<script>var d = "<%= Q %>"; var e = <%= Q %>;</script><p>after</p>');
    fc.assert(
      fc.property(hostile, (value) => {
        pages.forEach((render, i) => {
          const html = render(value);
          const written = attributesOf(TSP_PAGES[i]!.replace(/<%=[^%]*%>/g, 'X')).map(([, n]) => n);
          for (const [, name, v] of attributesOf(html)) {
            if (/^on./.test(name)) {
              expect(written, `${name} in ${html}`).toContain(name);
              // The value stays inside the JavaScript string (or is not code at all): no quote, parenthesis or slash from the request.
              expect(v.replace(/^go\('|'\)$|^go\(|\)$/g, ''), html).not.toMatch(/['"()\/;=`<>]/);
            }
            if (URL_NAMES.has(name)) expect(runsAsJavaScript(v), `${name}=${JSON.stringify(v)} in ${html}`).toBe(false);
          }
        });
        const html = scriptPage(value);
        const [body] = scriptBodies(html, 1);
        expect(body).not.toMatch(/<\/?script/i);
        expect(html.endsWith('<p>after</p>')).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('over HTTP: QUERY strings into .tsx and .tsp pages', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer(
      tempSite({
        'j.tsx': 'const u = String(QUERY.u ?? "");\n<div><a href={u} onClick={u as any} data-x={u}>l</a><img src={u} /><form action={u}></form><script type="application/json">{JSON.stringify({ u })}</script></div>;\n',
        't.tsp': '<a href="<%= QUERY.u %>" title="<%= QUERY.u %>">l</a><button onclick="go(\'<%= QUERY.u %>\')">b</button><input <%= QUERY.u %>><script>var u = "<%= QUERY.u %>";</script>\n',
      }),
      { production: true },
    );
  });
  afterAll(() => server?.close());

  it('holds for 60 hostile strings per page', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (value) => {
        for (const page of ['j', 't']) {
          const res = await fetch(`${server.url}/${page}?${new URLSearchParams({ u: value })}`);
          const html = await res.text();
          expect(res.status).toBe(200);
          for (const [, name, v] of attributesOf(html)) {
            if (page === 'j') expect(/^on./.test(name), html).toBe(false);
            if (URL_NAMES.has(name)) expect(runsAsJavaScript(v), `${name}=${JSON.stringify(v)} in ${html}`).toBe(false);
          }
          const [body] = scriptBodies(html, 1);
          expect(body).not.toMatch(/<\/?script/i);
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
