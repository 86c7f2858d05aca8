/**
 * Live reload in a real browser (SPEC §7), with playwright-core and the
 * system's Chromium: a page reloads by itself after an edit, a stylesheet is
 * swapped without a reload, a broken script shows the error page which comes
 * back by itself on the next good save.
 *
 * Chromium is looked for at $CHROMIUM_PATH or /usr/bin/chromium. In CI
 * (CI=true) a missing Chromium fails these tests; elsewhere they are skipped
 * with a loud message.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT, tempSite } from './helpers.js';
import { expectServerErrors } from './setup.js';

expectServerErrors(/(Compile error|Error) in GET \/breaks/);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CI = process.env.CI === 'true';
const present = fs.existsSync(CHROMIUM);
if (!present && !CI) {
  console.warn(`\n${'!'.repeat(78)}\n!! live-browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n${'!'.repeat(78)}\n`);
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Server {
  url: string;
  close(graceMs?: number): Promise<void>;
}

declare global {
  interface Window {
    mark?: number;
  }
}

describe.skipIf(!present && !CI)('live reload in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let root: string;
  const f = (rel: string): string => path.join(root, rel);

  async function open(urlPath: string): Promise<Page> {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(server.url + urlPath);
    // The page's own state: gone after a reload, kept by a stylesheet swap.
    await page.evaluate(() => (window.mark = 1));
    return page;
  }

  beforeAll(async () => {
    if (!present) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: the live-reload browser tests cannot run`);
    root = tempSite({
      'page.ts': 'print(`<!doctype html><html><body><h1>v1</h1></body></html>`);',
      'styled.ts': 'print(`<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1>styled</h1></body></html>`);',
      'style.css': 'h1 { color: rgb(0, 0, 255) }',
      'breaks.ts': 'import { word } from "./_lib/word.ts";\nprint(`<!doctype html><html><body><h1>${word}</h1></body></html>`);',
      '_lib/word.ts': 'export const word = "good";',
    });
    const mod = (await import(path.join(PROJECT, 'dist', 'index.js'))) as { createServer(o: Record<string, unknown>): Promise<Server> };
    [server, browser] = await Promise.all([
      mod.createServer({ root, port: 0, host: '127.0.0.1', quiet: true }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close(500);
  });

  it('the page reloads by itself after an edit', async () => {
    const page = await open('/page');
    expect(await page.textContent('h1')).toBe('v1');
    fs.writeFileSync(f('page.ts'), 'print(`<!doctype html><html><body><h1>v2</h1></body></html>`);');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'v2');
    expect(await page.evaluate(() => window.mark)).toBeUndefined();
    // And again, with an atomic rename-over save.
    const tmp = f('.page.ts.tmp');
    fs.writeFileSync(tmp, 'print(`<!doctype html><html><body><h1>v3</h1></body></html>`);');
    fs.renameSync(tmp, f('page.ts'));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'v3');
    await page.close();
  });

  it('a changed stylesheet is swapped in place: no reload, the page keeps its state', async () => {
    const page = await open('/styled');
    const color = (): Promise<string> => page.evaluate(() => getComputedStyle(document.querySelector('h1')!).color);
    expect(await color()).toBe('rgb(0, 0, 255)');
    fs.writeFileSync(f('style.css'), 'h1 { color: rgb(255, 0, 0) }');
    await page.waitForFunction(() => getComputedStyle(document.querySelector('h1')!).color === 'rgb(255, 0, 0)');
    expect(await page.evaluate(() => window.mark)).toBe(1);
    fs.writeFileSync(f('style.css'), 'h1 { color: rgb(0, 128, 0) }');
    await page.waitForFunction(() => getComputedStyle(document.querySelector('h1')!).color === 'rgb(0, 128, 0)');
    expect(await page.evaluate(() => window.mark)).toBe(1);
    // The old sheets are removed once the new one has loaded.
    await page.waitForFunction(() => document.querySelectorAll('link[rel=stylesheet]').length === 1);
    await page.close();
  });

  it('an edit that breaks the script shows the error page, which recovers on the next good save', async () => {
    const page = await open('/breaks');
    expect(await page.textContent('h1')).toBe('good');
    // A syntax error in the imported module.
    fs.writeFileSync(f('_lib/word.ts'), 'export const word = "bad;\n');
    await page.waitForFunction(() => document.querySelector('p.loc')?.textContent?.startsWith('_lib/word.ts:'));
    // Then in the page itself.
    fs.writeFileSync(f('_lib/word.ts'), 'export const word = "better";');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'better');
    fs.writeFileSync(f('breaks.ts'), 'print(`<h1>${nope()}</h1>`);');
    await page.waitForFunction(() => document.querySelector('p.loc')?.textContent?.startsWith('breaks.ts:1:'));
    fs.writeFileSync(f('breaks.ts'), 'import { word } from "./_lib/word.ts";\nprint(`<!doctype html><html><body><h1>${word} again</h1></body></html>`);');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'better again');
    await page.close();
  });
});
