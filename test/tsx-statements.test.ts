import { describe, it, expect } from 'vitest';
import { transform } from 'esbuild';
import * as runtime from '../src/jsx-runtime.js';
import { printTopLevelJsx } from '../src/syntax/tsx-statements.js';

const wrap = (source: string): string => printTopLevelJsx(source, 'page.tsx');

/** Compiles a wrapped .tsx page with esbuild and runs it; returns what it printed. */
async function run(source: string, names: Record<string, unknown> = {}): Promise<string[]> {
  const { code } = await transform(wrap(source), {
    loader: 'tsx',
    jsx: 'automatic',
    jsxImportSource: 'karrigell-ts',
    format: 'cjs',
  });
  const printed: string[] = [];
  const scope: Record<string, unknown> = {
    require: (id: string) => {
      if (id !== 'karrigell-ts/jsx-runtime') throw new Error(`unexpected require(${id})`);
      return runtime;
    },
    module: { exports: {} },
    exports: {},
    print: (...values: unknown[]) => printed.push(values.map(String).join(' ')),
    ...names,
  };
  new Function(...Object.keys(scope), code)(...Object.values(scope));
  return printed;
}

describe('printTopLevelJsx', () => {
  it('wraps a top-level JSX element statement', () => {
    expect(wrap('const name = "x";\n<h1>Hello {name}</h1>;\n')).toBe('const name = "x";\nprint(<h1>Hello {name}</h1>);\n');
  });

  it('wraps without a semicolon', () => {
    expect(wrap('<h1>Hi</h1>\n')).toBe('print(<h1>Hi</h1>)\n');
    expect(wrap('<h1>Hi</h1>')).toBe('print(<h1>Hi</h1>)');
  });

  it('wraps fragments, self-closing and parenthesised elements', () => {
    expect(wrap('<>a</>;')).toBe('print(<>a</>);');
    expect(wrap('<hr />;')).toBe('print(<hr />);');
    expect(wrap('(<b>y</b>);')).toBe('print((<b>y</b>));');
    expect(wrap('((\n  <div>\n    x\n  </div>\n));')).toBe('print(((\n  <div>\n    x\n  </div>\n)));');
  });

  it('wraps components', () => {
    expect(wrap('const C = () => <i />;\n<C a="1" />;')).toBe('const C = () => <i />;\nprint(<C a="1" />);');
  });

  it('wraps consecutive elements written without semicolons one by one', () => {
    expect(wrap('<h1>T</h1>\n<p>x</p>\n<br/>\n')).toBe('print(<h1>T</h1>)\n;print(<p>x</p>)\n;print(<br/>)\n');
    expect(wrap('<a/><b/>')).toBe('print(<a/>);print(<b/>)');
  });

  it('does not wrap JSX that is not a top-level statement', () => {
    const sources = [
      'function f() { <p>in function</p>; return <b/>; }',
      'const el = <p>init</p>;',
      'let el2; el2 = <p>assign</p>;',
      'if (true) { <p>block</p>; }',
      '{ <p>bare block</p>; }',
      'for (const x of [1]) <p>{x}</p>;',
      'const f = () => { <p>arrow</p>; };',
      'print(<p>already</p>);',
      'export default <p>default</p>;',
      'const a = 1 < 2;\nconst b = a;',
      'type T = Array<string>;\nconst g = <T,>(x: T) => x;',
    ];
    for (const source of sources) expect(wrap(source)).toBe(source);
  });

  it('returns the same string when there is nothing to wrap', () => {
    const source = 'const x = 1;\nprint(x);\n';
    expect(wrap(source)).toBe(source);
    expect(wrap('')).toBe('');
  });

  it('keeps unrelated lines and columns unchanged', () => {
    const source = [
      'import { x } from "./lib.js";',
      'const items = ["a", "b"];',
      '<ul>',
      '  {items.map((i) => <li>{i}</li>)}',
      '</ul>;',
      'function after() {',
      '  return <p>{x}</p>;',
      '}',
      '   <p>indented</p>  ;  // comment',
    ].join('\n');
    const out = wrap(source).split('\n');
    const lines = source.split('\n');
    expect(out).toHaveLength(lines.length);
    expect(out[2]).toBe('print(<ul>');
    expect(out[4]).toBe('</ul>);');
    expect(out[8]).toBe('   print(<p>indented</p>)  ;  // comment');
    for (const i of [0, 1, 3, 5, 6, 7]) expect(out[i]).toBe(lines[i]);
  });

  it('is cheap for sources without "<"', () => {
    const source = 'print("no jsx here");';
    expect(wrap(source)).toBe(source);
  });

  it('compiles and prints through esbuild', async () => {
    const printed = await run(
      [
        'const name = "<Ann>";',
        'const Greeting = (p: { who: string }) => <b>{p.who}</b>;',
        '<h1>Hello {name}</h1>',
        '<p>a</p>',
        '<>',
        '  <Greeting who={name} />',
        '</>;',
        'function notPrinted() { return <i>no</i>; }',
        'const el = <em>kept</em>;',
        'notPrinted(); el;',
      ].join('\n'),
    );
    expect(printed).toEqual(['<h1>Hello &lt;Ann&gt;</h1>', '<p>a</p>', '<b>&lt;Ann&gt;</b>']);
  });
});

describe('printTopLevelJsxOffThread (the server keeps TypeScript off its own thread)', () => {
  it('gives what printTopLevelJsx gives, for concurrent jobs and a later one', async () => {
    const { printTopLevelJsxOffThread } = await import('../dist/syntax/tsx-statements.js');
    const sources = [
      '<h1>Hi</h1>;\n',
      'const a = 1;\n<p>{a}</p>\n<p>b</p>\n',
      'function C() { return <b/>; }\n(<C/>);\n',
      'const x = 1 < 2;\n',
      'no markup at all\n',
    ];
    const results = await Promise.all(sources.map((s, i) => printTopLevelJsxOffThread(s, `p${i}.tsx`)));
    expect(results).toEqual(sources.map((s, i) => printTopLevelJsx(s, `p${i}.tsx`)));
    expect(results[0]).toBe('print(<h1>Hi</h1>);\n');
    // Again, on the same (or a restarted) worker.
    expect(await printTopLevelJsxOffThread(sources[1]!, 'again.tsx')).toBe(printTopLevelJsx(sources[1]!, 'again.tsx'));
  });
});
