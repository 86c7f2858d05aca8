// Issue 14: `.tsx` pages against React's renderToStaticMarkup (SPEC §3).
// Every case is a JSX expression rendered twice: by karrigell-ts, as a real
// `.tsx` page fetched over HTTP from a production server, and by react-dom/server
// (the same source compiled by esbuild for React). Both outputs are compared
// after normalising serialisation only (test/html-normalise.ts). A case that
// differs on purpose says so (`ours`: our exact normalised output) and is
// listed with its reason in README.md ("JSX compared with React").
// preact-render-to-string is a second opinion: its agreement is counted, not asserted.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { transformSync } from 'esbuild';
import { createRequire } from 'node:module';
import { normaliseHtml } from './html-normalise.js';
import { startServer, tempSite, type Running } from './helpers.js';
import { CASES, type Case } from './jsx-cases.js';

const require = createRequire(import.meta.url);
const React = require('react') as typeof import('react');
const { renderToStaticMarkup } = require('react-dom/server') as typeof import('react-dom/server');
const preact = require('preact') as typeof import('preact');
const preactRender = require('preact-render-to-string') as { render(v: unknown): string };

/**
 * React 19 adds `<link rel="preload" as="image">` before an `<img>` (a
 * resource hint it hoists; README lists it). It is not in the JSX, so it is
 * taken out of React's output before comparing.
 */
function withoutResourceHints(html: string): string {
  return html.replace(/<link rel="preload"[^>]*\bas="image"[^>]*\/>/g, '');
}

function referenceRender(c: Case, kind: 'react' | 'preact'): string {
  const { code } = transformSync(`(${c.jsx})`, { loader: 'tsx', jsx: 'transform', jsxFactory: '__h', jsxFragment: '__Frag' });
  const make = new Function('__h', '__Frag', 'Q', 'raw', `return ${code.trim().replace(/;$/, '')}`);
  const rawIdentity = (s: unknown): unknown => s;
  const q = c.q ?? {};
  const quiet = console.error;
  console.error = () => {}; // React's development warnings (keys, unknown props) are not the point here
  try {
    if (kind === 'react') return withoutResourceHints(renderToStaticMarkup(make(React.createElement, React.Fragment, q, rawIdentity)));
    return preactRender.render(make(preact.h, preact.Fragment, q, rawIdentity));
  } finally {
    console.error = quiet;
  }
}

let server: Running;
const ours: string[] = [];

beforeAll(async () => {
  const files: Record<string, string> = {};
  CASES.forEach((c, i) => {
    files[`c${i}.tsx`] = `const Q: any = QUERY;\nprint(${c.jsx});\n`;
  });
  server = await startServer(tempSite(files), { production: true });
  await Promise.all(
    CASES.map(async (c, i) => {
      const res = await fetch(`${server.url}/c${i}?${new URLSearchParams(c.q ?? {})}`);
      const body = await res.text();
      ours[i] = res.status === 200 ? body.replace(/\n$/, '') : `HTTP ${res.status}: ${body.slice(0, 300)}`;
    }),
  );
}, 60_000);

afterAll(() => server?.close());

describe('JSX against react-dom/server renderToStaticMarkup', () => {
  it('has a corpus of at least 100 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100);
  });

  it.each(CASES.map((c, i) => [i, c.jsx + (c.q ? ` ?${new URLSearchParams(c.q)}` : ''), c] as const))(
    'case %i: %s',
    (i, _title, c) => {
      const react = normaliseHtml(referenceRender(c, 'react'));
      const mine = normaliseHtml(ours[i]!);
      if (c.ours === undefined) expect(mine).toBe(react);
      else {
        expect(mine).toBe(c.ours);
        expect(mine, 'listed as a deliberate difference but React agrees: drop `ours`').not.toBe(react);
      }
    },
  );

  it('counts the differences (React, and Preact as a second opinion)', () => {
    const differ = CASES.filter((c) => c.ours !== undefined).length;
    let preactDiffers = 0;
    CASES.forEach((c, i) => {
      let preactHtml: string;
      try {
        preactHtml = referenceRender(c, 'preact');
      } catch (err) {
        preactHtml = `preact threw ${String(err)}`;
      }
      if (normaliseHtml(preactHtml) !== normaliseHtml(ours[i]!)) preactDiffers++;
    });
    console.log(`jsx-vs-react: ${CASES.length} cases, ${differ} deliberate differences from React; Preact differs on ${preactDiffers}`);
    expect(differ).toBeLessThan(CASES.length / 5);
  });
});
