// Issue 3: the Karrigell manual's session example, walked in a real browser on the demo site.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { createServer } from '../dist/index.js';
import { launchBrowser, runBrowserTests } from './browser.js';
import { PROJECT } from './helpers.js';

describe.runIf(runBrowserTests)('the Karrigell session example in Chromium', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof createServer>>;

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await createServer({ root: path.join(PROJECT, 'www'), port: 0, host: '127.0.0.1', quiet: true, production: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('stores the names from the form, reads them back on the next page, and forgets them after close', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + '/session/');
    await page.fill('input[name=firstname]', 'Ada');
    await page.fill('input[name=name]', 'Lovelace');
    await Promise.all([page.waitForURL('**/session/store'), page.click('button')]);
    expect(await page.textContent('main')).toContain('Thank you Ada Lovelace');

    await Promise.all([page.waitForURL('**/session/read'), page.click('text=Next…')]);
    expect(await page.textContent('#names')).toBe('Your name is Ada Lovelace.');

    // A second, independent browser context knows nothing of it.
    const other = await browser.newContext();
    const stranger = await other.newPage();
    await stranger.goto(server.url + '/session/read');
    expect(await stranger.textContent('#names')).toContain('holds no names');
    await other.close();

    await Promise.all([page.waitForURL('**/session/close'), page.click('text=Close the session')]);
    await Promise.all([page.waitForURL('**/session/read'), page.click('text=Read the session again')]);
    expect(await page.textContent('#names')).toContain('holds no names');
    await page.close();
  });
});
