import { describe, it, expect } from 'vitest';
import { transform } from 'esbuild';
import { raw, isRaw } from '../src/html.js';
import * as runtime from '../src/jsx-runtime.js';
import { Fragment, jsx, jsxDEV, jsxs, renderToString } from '../src/jsx-runtime.js';

/** Compiles a TSX module with esbuild's automatic runtime and returns its exports. */
async function compileTsx(source: string, options: { dev?: boolean } = {}): Promise<Record<string, unknown>> {
  const { code } = await transform(source, {
    loader: 'tsx',
    jsx: 'automatic',
    jsxDev: options.dev ?? false,
    jsxImportSource: 'karrigell-ts',
    format: 'cjs',
  });
  const modules: Record<string, unknown> = {
    'karrigell-ts/jsx-runtime': runtime,
    'karrigell-ts/jsx-dev-runtime': runtime,
    'karrigell-ts/html': { raw },
  };
  const fakeRequire = (id: string): unknown => {
    if (!(id in modules)) throw new Error(`unexpected require(${id})`);
    return modules[id];
  };
  const module = { exports: {} as Record<string, unknown> };
  new Function('require', 'module', 'exports', code)(fakeRequire, module, module.exports);
  return module.exports;
}

/** Renders one TSX expression (with `raw` in scope) to a string. */
async function renderTsx(expression: string, prelude = ''): Promise<string> {
  const exports = await compileTsx(`import { raw } from 'karrigell-ts/html';\n${prelude}\nexport default (${expression});`);
  const value = exports.default;
  expect(isRaw(value)).toBe(true);
  return String(value);
}

describe('jsx() called directly', () => {
  it('returns a RawHtml right away', () => {
    const el = jsx('p', { children: 'hi' });
    expect(isRaw(el)).toBe(true);
    expect(el.value).toBe('<p>hi</p>');
  });

  it('jsxs and jsxDEV render like jsx', () => {
    expect(String(jsxs('ul', { children: [jsx('li', { children: 'a' }), jsx('li', { children: 'b' })] }))).toBe(
      '<ul><li>a</li><li>b</li></ul>',
    );
    expect(String(jsxDEV('b', { children: 'x' }, 'k', false, {}, undefined))).toBe('<b>x</b>');
  });

  it('accepts null props', () => {
    expect(String(jsx('div', null))).toBe('<div></div>');
    expect(String(jsx('br', null))).toBe('<br>');
  });

  it('rejects invalid element types', () => {
    expect(() => jsx(undefined as unknown as string, {})).toThrow(TypeError);
    expect(() => jsx('a onclick=x' as string, {})).toThrow(/invalid JSX element type/);
    expect(() => jsx('<script>', {})).toThrow(TypeError);
  });
});

describe('escaping', () => {
  const cases: Array<[string, unknown, string]> = [
    ['script tag in text', '<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>'],
    ['ampersand and quotes', `Tom & "Jerry" 'x'`, '<p>Tom &amp; &quot;Jerry&quot; &#39;x&#39;</p>'],
    ['raw() as is', raw('<b>bold</b>'), '<p><b>bold</b></p>'],
    ['number', 42, '<p>42</p>'],
    ['zero', 0, '<p>0</p>'],
    ['bigint', 10n, '<p>10</p>'],
    ['null', null, '<p></p>'],
    ['undefined', undefined, '<p></p>'],
    ['true', true, '<p></p>'],
    ['false', false, '<p></p>'],
    ['empty string', '', '<p></p>'],
    ['nested arrays', ['a', ['<', raw('<i>i</i>')], null, 1], '<p>a&lt;<i>i</i>1</p>'],
    ['iterable', new Set(['x', '&']), '<p>x&amp;</p>'],
  ];
  it.each(cases)('text child: %s', (_name, child, expected) => {
    expect(String(jsx('p', { children: child }))).toBe(expected);
  });

  const attrs: Array<[string, Record<string, unknown>, string]> = [
    ['quote cannot break out', { title: '" onmouseover="alert(1)' }, '<a title="&quot; onmouseover=&quot;alert(1)"></a>'],
    ['angle brackets and &', { href: '/?a=1&b=<2>' }, '<a href="/?a=1&amp;b=&lt;2&gt;"></a>'],
    ['raw value keeps entities but not quotes', { title: raw('&copy; "x"') }, '<a title="&copy; &quot;x&quot;"></a>'],
    ['number', { tabIndex: 3 }, '<a tabindex="3"></a>'],
    ['className / htmlFor', { className: 'btn', htmlFor: 'id1' }, '<a class="btn" for="id1"></a>'],
    ['true is bare', { hidden: true, 'data-x': 'y' }, '<a hidden data-x="y"></a>'],
    ['false, null, undefined omitted', { hidden: false, title: null, alt: undefined }, '<a></a>'],
    ['empty string kept', { alt: '' }, '<a alt=""></a>'],
    ['functions omitted', { onClick: () => 1, id: 'i' }, '<a id="i"></a>'],
    ['key, ref, children not attributes', { key: 'k', ref: 'r', id: 'i' }, '<a id="i"></a>'],
    [
      'invalid names dropped',
      { 'a b': 1, 'x"y': 1, 'c>d': 1, 'e/f': 1, 'g=h': 1, "i'j": 1, '': 1, ok: 1 },
      '<a ok="1"></a>',
    ],
  ];
  it.each(attrs)('attributes: %s', (_name, props, expected) => {
    expect(String(jsx('a', props))).toBe(expected);
  });
});

describe('style objects', () => {
  it('renders camelCase as kebab-case, numbers with px unless unitless', () => {
    const el = jsx('div', { style: { backgroundColor: 'red', marginTop: 0, zIndex: 2, lineHeight: 1.5 } });
    expect(String(el)).toBe('<div style="background-color:red;margin-top:0;z-index:2;line-height:1.5"></div>');
  });

  it('handles vendor prefixes, custom properties and empty values', () => {
    const el = jsx('div', {
      style: { WebkitTransition: 'none', msTransform: 'none', '--main-color': 'blue', color: null, width: undefined, border: '' },
    });
    expect(String(el)).toBe('<div style="-webkit-transition:none;-ms-transform:none;--main-color:blue"></div>');
  });

  it('escapes values and keeps string styles', () => {
    expect(String(jsx('div', { style: { fontFamily: '"A" <b>' } }))).toBe(
      '<div style="font-family:&quot;A&quot; &lt;b&gt;"></div>',
    );
    expect(String(jsx('div', { style: 'color: red' }))).toBe('<div style="color: red"></div>');
    expect(String(jsx('div', { style: {} }))).toBe('<div></div>');
  });
});

describe('elements', () => {
  it('void elements have no closing tag and ignore children', () => {
    for (const tag of ['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']) {
      expect(String(jsx(tag, { children: 'x' }))).toBe(`<${tag}>`);
    }
    expect(String(jsx('input', { type: 'checkbox', checked: true, disabled: false }))).toBe('<input type="checkbox" checked>');
  });

  it('non-void elements always close', () => {
    expect(String(jsx('div', {}))).toBe('<div></div>');
    expect(String(jsx('my-element', { 'some-attr': 'v' }))).toBe('<my-element some-attr="v"></my-element>');
  });

  it('dangerouslySetInnerHTML inserts raw HTML', () => {
    expect(String(jsx('div', { dangerouslySetInnerHTML: { __html: '<b>x</b>' }, children: 'ignored' }))).toBe(
      '<div><b>x</b></div>',
    );
  });

  it('Fragment renders its children', () => {
    expect(String(jsx(Fragment, { children: ['a', jsx('b', { children: '<' })] }))).toBe('a<b>&lt;</b>');
    expect(String(jsx(Fragment, {}))).toBe('');
  });

  it('function components get props with children', () => {
    const Card = (props: { title: string; children?: unknown }) =>
      jsxs('section', { children: [jsx('h2', { children: props.title }), props.children] });
    expect(String(jsx(Card, { title: 'T&', children: jsx('p', { children: 'body' }) }))).toBe(
      '<section><h2>T&amp;</h2><p>body</p></section>',
    );
  });

  it('component results: strings escaped, raw as is, null empty', () => {
    expect(String(jsx(() => '<i>', {}))).toBe('&lt;i&gt;');
    expect(String(jsx(() => raw('<i>'), {}))).toBe('<i>');
    expect(String(jsx(() => null, {}))).toBe('');
    expect(String(jsx(() => ['a', 1], {}))).toBe('a1');
  });

  it('refuses to render a promise', () => {
    expect(() => jsx(async () => 'x', {})).toThrow(/Promise/);
  });
});

describe('renderToString', () => {
  it('renders any child value', () => {
    expect(renderToString('<x>')).toBe('&lt;x&gt;');
    expect(renderToString(raw('<x>'))).toBe('<x>');
    expect(renderToString([1, [2, [3]], false, null])).toBe('123');
    expect(renderToString(undefined)).toBe('');
    expect(renderToString({ toString: () => '<o>' })).toBe('&lt;o&gt;');
  });
});

describe('compiled by esbuild (automatic runtime)', () => {
  it('renders text, expressions and attributes with escaping', async () => {
    const name = '<script>x</script>';
    const out = await renderTsx(`<p class="a" title={name} data-n={3}>Hello {name}!</p>`, `const name = ${JSON.stringify(name)};`);
    expect(out).toBe('<p class="a" title="&lt;script&gt;x&lt;/script&gt;" data-n="3">Hello &lt;script&gt;x&lt;/script&gt;!</p>');
  });

  it('handles raw(), className, booleans, styles and events', async () => {
    const out = await renderTsx(
      `<button className="b" disabled={true} hidden={false} style={{ fontSize: 12, marginLeft: "1em" }} onClick={() => 1}>{raw("<b>ok</b>")}</button>`,
    );
    expect(out).toBe('<button class="b" disabled style="font-size:12px;margin-left:1em"><b>ok</b></button>');
  });

  it('renders fragments, arrays, void elements and label htmlFor', async () => {
    const out = await renderTsx(
      `<><label htmlFor="n">N</label><input id="n" value={'"v"'} /><br />{[1, 2].map((i) => <li key={i}>{i}</li>)}{null}{false}{undefined}</>`,
    );
    expect(out).toBe('<label for="n">N</label><input id="n" value="&quot;v&quot;"><br><li>1</li><li>2</li>');
  });

  it('renders components with children, nested', async () => {
    const prelude = `
      const Layout = ({ title, children }: { title: string; children?: unknown }) => (
        <html><head><title>{title}</title></head><body>{children}</body></html>
      );
      const Item = (p: { label: string }) => <li>{p.label}</li>;
      const Plain = () => "a < b";
    `;
    const out = await renderTsx(
      `<Layout title="T &amp; U"><ul><Item label="x" /><Item label="<y>" /></ul><Plain /></Layout>`,
      prelude,
    );
    expect(out).toBe(
      '<html><head><title>T &amp; U</title></head><body><ul><li>x</li><li>&lt;y&gt;</li></ul>a &lt; b</body></html>',
    );
  });

  it('keeps JSX text whitespace rules and entities', async () => {
    const out = await renderTsx(`<p>
        a &lt; b &amp;&nbsp;c
        {"d"}
      </p>`);
    expect(out).toBe('<p>a &lt; b &amp;\u00a0cd</p>');
  });

  it('works with the dev transform (jsxDEV)', async () => {
    const exports = await compileTsx(`export default <div id="x"><span>{"<"}</span></div>;`, { dev: true });
    expect(String(exports.default)).toBe('<div id="x"><span>&lt;</span></div>');
  });

  it('dangerouslySetInnerHTML and spread props', async () => {
    const out = await renderTsx(
      `<div {...props} dangerouslySetInnerHTML={{ __html: "<em>x</em>" }} />`,
      `const props = { id: "a", "data-q": '"' };`,
    );
    expect(out).toBe('<div id="a" data-q="&quot;"><em>x</em></div>');
  });
});
