import { describe, it, expect } from 'vitest';
import { transform } from 'esbuild';
import { runInNewContext } from 'node:vm';
import { raw, tspEscaped, tspRaw } from '../src/html.js';
import { tspToTs, type TspSyntaxError } from '../src/syntax/tsp.js';

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

/** Compiles a .tsp source and runs it with `names` in scope; returns the output. */
async function render(source: string, names: Record<string, unknown> = {}): Promise<string> {
  const ts = tspToTs(source, 'page.tsp');
  const { code } = await transform(ts, { loader: 'ts', format: 'esm' });
  let out = '';
  const scope: Record<string, unknown> = {
    __kts_out: (text: string) => {
      out += text;
    },
    __kts_esc: tspEscaped,
    __kts_raw: tspRaw,
    _: (text: string) => (text === 'Hello' ? 'Bonjour <3' : text),
    raw,
    ...names,
  };
  await new AsyncFunction(...Object.keys(scope), code)(...Object.values(scope));
  return out;
}

/** The 0-based index of the first generated line containing `needle`. */
function lineOf(generated: string, needle: string): number {
  return generated.split('\n').findIndex((line) => line.includes(needle));
}

describe('tspToTs output', () => {
  it('plain HTML is output as is', async () => {
    const page = '<!doctype html>\n<p class="x">Hello "world" \\ `tick` ${no}</p>\n';
    expect(await render(page)).toBe(page);
  });

  it('empty source', async () => {
    expect(await render('')).toBe('');
  });

  it('escapes <%= %>, keeps <%- %> raw', async () => {
    const out = await render('<p><%= v %>|<%- v %>|<%= r %>|<%- n %>|<%= n %></p>', {
      v: '<b>&"</b>',
      r: raw('<i>ok</i>'),
      n: null,
    });
    expect(out).toBe('<p>&lt;b&gt;&amp;&quot;&lt;/b&gt;|<b>&"</b>|<i>ok</i>||</p>');
  });

  it('translates <%_ %> then escapes', async () => {
    expect(await render('<h1><%_ "Hello" %></h1><p><%_ word %></p>', { word: 'x&y' })).toBe(
      '<h1>Bonjour &lt;3</h1><p>x&amp;y</p>',
    );
  });

  it('control flow spans tags', async () => {
    const out = await render('<ul><% for (const x of xs) { %><li><%= x %></li><% } %></ul>', { xs: ['a', '<b>', 3] });
    expect(out).toBe('<ul><li>a</li><li>&lt;b&gt;</li><li>3</li></ul>');
  });

  it('if / else across tags', async () => {
    const page = '<% if (n > 1) { %>many<% } else if (n === 1) { %>one<% } else { %>none<% } %>';
    expect(await render(page, { n: 5 })).toBe('many');
    expect(await render(page, { n: 1 })).toBe('one');
    expect(await render(page, { n: 0 })).toBe('none');
  });

  it('standalone code lines leave no blank lines; other whitespace is kept', async () => {
    const page = [
      '<ul>',
      '  <% for (const x of xs) { %>',
      '  <li> <%= x %> </li>',
      '  <% } %>',
      '</ul>',
      '<p>  <% const y = 1 %>  </p>',
      '',
    ].join('\n');
    expect(await render(page, { xs: [1, 2] })).toBe('<ul>\n  <li> 1 </li>\n  <li> 2 </li>\n</ul>\n<p>    </p>\n');
  });

  it('code without semicolons, multi-line code and comments in code', async () => {
    const page = [
      '<% const a = 1 %><% const b = 2 %><%= a + b %>',
      '<%',
      '  const list = [1, 2]',
      '  const total = list.reduce((s, x) => s + x, 0) // sum',
      '%>',
      '<% // a line comment only %>',
      '<p><% const o = { k: "v" } %><%= o.k %></p>',
      '<%= total // trailing comment %>',
      '<% /* block */ %>end',
    ].join('\n');
    expect(await render(page)).toBe('3\n<p>v</p>\n3\nend');
  });

  it('a // inside a string or regex is not a comment', async () => {
    const page = '<% const u = "http://x" %><%= u %>|<% const re = /\\/\\//; %><%= re.test("//") %>';
    expect(await render(page)).toBe('http://x|true');
  });

  it('comments <%# %> and literal <%%', async () => {
    expect(await render('a<%# hidden <b> %>b <%%= not code %>\n<%# two\nlines %>\nc')).toBe('ab <%= not code %>\nc');
  });

  it('top-level await works', async () => {
    expect(await render('<% const v = await Promise.resolve("x") %><%= v %>')).toBe('x');
  });

  it('keeps imports at the top as written', () => {
    const ts = tspToTs("<% import { a } from './lib.js' %>\n<p><%= a %></p>\n", 'page.tsp');
    expect(ts.split('\n')[0]).toContain("import { a } from './lib.js'");
  });

  it('CRLF line endings', async () => {
    expect(await render('<p>\r\n<% if (true) { %>\r\nx\r\n<% } %>\r\n</p>')).toBe('<p>\r\nx\r\n</p>');
  });

  it('line and paragraph separators stay escaped in the generated code', () => {
    const ts = tspToTs('a\u2028b\u2029c', 'page.tsp');
    expect(ts).not.toMatch(/[\u2028\u2029]/);
    expect(ts).toContain('\\u2028');
  });

  it('uses __kts_out / __kts_esc / _ as specified', () => {
    const ts = tspToTs('x<%= a %><%- b %><%_ "c" %>', 'page.tsp');
    expect(ts).toContain('__kts_out("x");');
    expect(ts).toContain('__kts_out(__kts_esc(( a )));');
    expect(ts).toContain('__kts_out(__kts_raw(( b )));');
    expect(ts).toContain('__kts_out(__kts_esc(_(( "c" ))));');
  });
});

describe('line mapping', () => {
  const page = [
    '<!doctype html>', // 1
    '<% const items = ["a", "b"] %>', // 2
    '<ul>', // 3
    '  <% for (const it of items) { %>', // 4
    '  <li class="x"><%= it %></li>', // 5
    '  <% } %>', // 6
    '  <% throw new Error("boom") %>', // 7
    '</ul>', // 8
    '<p>', // 9
    '</p>', // 10
  ].join('\n');

  it('generated line N is tsp line N', () => {
    const ts = tspToTs(page, 'page.tsp');
    expect(ts.split('\n')).toHaveLength(10);
    expect(lineOf(ts, 'throw new Error')).toBe(6);
    expect(lineOf(ts, 'for (const it of items)')).toBe(3);
    expect(lineOf(ts, '__kts_esc(( it ))')).toBe(4);
    expect(lineOf(ts, 'const items')).toBe(1);
  });

  it('code keeps its column when it starts a line', () => {
    const lines = tspToTs(page, 'page.tsp').split('\n');
    expect(lines[6]!.indexOf('throw')).toBe(page.split('\n')[6]!.indexOf('throw'));
    expect(lines[3]!.indexOf('for')).toBe(page.split('\n')[3]!.indexOf('for'));
  });

  it('a runtime error points at tsp line 7 and the column of the throwing code', () => {
    const ts = tspToTs(page, 'page.tsp');
    expect(lineOf(ts, 'throw new Error("boom")')).toBe(6);
    // The generated code has no type annotations here, so it runs as is.
    let err: Error | undefined;
    try {
      runInNewContext(ts, { __kts_out: () => {}, __kts_esc: tspEscaped, __kts_raw: tspRaw, Error }, { filename: 'page.tsp' });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toBe('boom');
    const column = page.split('\n')[6]!.indexOf('new Error') + 1;
    expect(err!.stack).toContain(`page.tsp:7:${column}`);
  });

  it('esbuild syntax errors report the tsp line and column', async () => {
    const bad = ['<p>', '<% const a = 1 %>', '<ul>', '  <li>x</li>', '  <% const b = ; %>', '</ul>'].join('\n');
    const error = await transform(tspToTs(bad, 'bad.tsp'), { loader: 'ts', sourcefile: 'bad.tsp' }).then(
      () => undefined,
      (e: { errors: Array<{ location: { line: number; column: number } }> }) => e,
    );
    expect(error).toBeDefined();
    const location = error!.errors[0]!.location;
    expect(location.line).toBe(5);
    expect(location.column).toBe(bad.split('\n')[4]!.indexOf(';'));
  });

  it('lines stay aligned after a trailing // comment and multi-line literals and tags', () => {
    const src = [
      '<% let n = 0 // counter %>', // 1
      '<p>', // 2
      '<%= n', // 3
      '  + 1 // plus %>', // 4
      '<%# note', // 5
      '%>', // 6
      '</p>', // 7
      '<% n++ %><% n++ %>', // 8
      '<% marker() %>', // 9
    ].join('\n');
    const ts = tspToTs(src, 'page.tsp');
    expect(ts.split('\n')).toHaveLength(9);
    expect(lineOf(ts, 'marker()')).toBe(8);
    expect(lineOf(ts, '+ 1')).toBe(3);
    expect(lineOf(ts, 'n++')).toBe(7);
  });
});

describe('errors', () => {
  it('unclosed tag reports line and column', () => {
    const src = '<p>\n  <%= ok %>\n  <% if (x) {\n</p>';
    let error: TspSyntaxError | undefined;
    try {
      tspToTs(src, 'www/page.tsp');
    } catch (e) {
      error = e as TspSyntaxError;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toBe('unclosed <% tag at 3:3');
    expect(error!.line).toBe(3);
    expect(error!.column).toBe(3);
    expect(error!.file).toBe('www/page.tsp');
  });

  it('unclosed tag on the first column of the first line', () => {
    expect(() => tspToTs('<%= x', 'a.tsp')).toThrow('unclosed <% tag at 1:1');
  });

  it('%> ends a tag even inside a string (as in EJS)', () => {
    const ts = tspToTs('<%= "a %>" %>', 'a.tsp');
    expect(ts).toContain('__kts_esc(( "a ))');
  });
});
