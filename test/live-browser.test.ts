/**
 * Live editing in a real browser (SPEC §7), with playwright-core and the
 * system's Chromium: an edit updates the open page in place (typed text,
 * caret, focus, scroll, open <details>, the page's JS state kept), a changed
 * script reloads, a page that answered a POST is never posted again (a note
 * links to a GET), a broken save shows an overlay over the page that the
 * next good save removes, a stylesheet is swapped without a reload, and
 * `--live full` reloads on every change.
 *
 * Chromium is looked for at $CHROMIUM_PATH or /usr/bin/chromium. In CI
 * (CI=true) a missing Chromium fails these tests; elsewhere they are skipped
 * with a loud message.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
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
    ran?: string;
  }
}

/** Where screenshots of the overlay and the note go (looked at by a person; not compared). */
const SHOTS = process.env.LIVE_SCREENSHOTS;

describe.skipIf(!present && !CI)('live editing in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let full: Server;
  let root: string;
  const f = (rel: string): string => path.join(root, rel);

  async function open(urlPath: string, base = server.url): Promise<Page> {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(base + urlPath);
    // The page's own state: gone after a reload, kept by an update in place.
    await page.evaluate(() => (window.mark = 1));
    return page;
  }

  /** A long page with a form (the state a user has on a page), `top` above it. */
  const formPage = (top: string, name = 'Ann'): string => `import { footer } from "./_lib/footer.ts";
print(\`<!doctype html><html><head><title>form</title></head><body>
<h1>${top}</h1>
<div style="height: 1500px">tall</div>
<form method="post">
  <input id="name" name="name" value="${name}">
  <input id="plain" name="plain">
  <textarea id="notes" name="notes">server text</textarea>
  <select id="pick" name="pick"><option>a</option><option>b</option><option>c</option></select>
  <label><input id="ok" type="checkbox" name="ok"> ok</label>
  <details id="more"><summary>more</summary>inside</details>
</form>
<div style="height: 1500px">tall</div>
<p id="foot">\${footer()}</p>
<script>window.ran = (window.ran || "") + "s1";</script>
</body></html>\`);
`;

  beforeAll(async () => {
    if (!present) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: the live-reload browser tests cannot run`);
    root = tempSite({
      'page.ts': 'print(`<!doctype html><html><body><h1>v1</h1></body></html>`);',
      'form.ts': formPage('v1'),
      '_lib/footer.ts': 'export const footer = () => "f1";',
      'styled.ts': 'print(`<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1>styled</h1><input id="q"></body></html>`);',
      'style.css': 'h1 { color: rgb(0, 0, 255) }',
      'breaks.ts': 'import { word } from "./_lib/word.ts";\nprint(`<!doctype html><html><body><h1>${word}</h1><input id="q"></body></html>`);',
      '_lib/word.ts': 'export const word = "good";',
      'posted.ts': 'import { state } from "./_lib/state.ts";\nif (REQUEST_HANDLER.method === "POST") state.posts++;\nprint(`<!doctype html><html><body><h1>posted v1</h1><p id="n">${state.posts}</p><form method="post"><button>send</button></form></body></html>`);',
      '_lib/state.ts': 'export const state = { posts: 0 };',
      'parts.ts': 'Include("_inc/part.ts");\nprint(`<p id="t">${_("Hello")}</p><input id="q">`);',
      '_inc/part.ts': 'print(`<!doctype html><html><body><h1 id="inc">part 1</h1>`);',
      '_translations/fr.json': '{ "Hello": "Bonjour" }',
      'static.html': '<!doctype html><html><body><h1>static 1</h1><input id="q"></body></html>',
    });
    const mod = (await import(path.join(PROJECT, 'dist', 'index.js'))) as { createServer(o: Record<string, unknown>): Promise<Server> };
    [server, full, browser] = await Promise.all([
      mod.createServer({ root, port: 0, host: '127.0.0.1', quiet: true }),
      mod.createServer({ root, port: 0, host: '127.0.0.1', quiet: true, live: 'full' }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close(500);
    await full?.close(500);
  });

  it('an edit updates the page in place: typed text, caret, focus, scroll, <details>, JS state kept', async () => {
    const page = await open('/form');
    await page.fill('#name', 'Typed name');
    await page.fill('#notes', 'my notes');
    await page.selectOption('#pick', 'c');
    await page.check('#ok');
    await page.click('#more summary');
    await page.fill('#plain', 'hello world');
    await page.evaluate(() => {
      const el = document.getElementById('plain') as HTMLInputElement;
      el.focus();
      el.setSelectionRange(3, 5);
      window.scrollTo(0, 900);
    });
    const nodeBefore = await page.evaluateHandle(() => document.getElementById('plain'));
    // The page text changes, and a paragraph appears above the form (nothing has a key).
    fs.writeFileSync(f('form.ts'), formPage('v2</h1><p>a new paragraph</p><h1 hidden>'));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'v2');
    const state = await page.evaluate(() => {
      const v = (id: string) => (document.getElementById(id) as HTMLInputElement).value;
      const plain = document.getElementById('plain') as HTMLInputElement;
      return {
        mark: window.mark,
        ran: window.ran,
        name: v('name'),
        plain: v('plain'),
        notes: v('notes'),
        pick: v('pick'),
        ok: (document.getElementById('ok') as HTMLInputElement).checked,
        open: (document.getElementById('more') as HTMLDetailsElement).open,
        focus: document.activeElement?.id,
        caret: [plain.selectionStart, plain.selectionEnd],
        scroll: window.scrollY,
        paragraph: document.querySelector('p')?.textContent,
      };
    });
    expect(state).toEqual({
      mark: 1,
      ran: 's1',
      name: 'Typed name',
      plain: 'hello world',
      notes: 'my notes',
      pick: 'c',
      ok: true,
      open: true,
      focus: 'plain',
      caret: [3, 5],
      scroll: 900,
      paragraph: 'a new paragraph',
    });
    // The very same element (its listeners, its JS state).
    expect(await page.evaluate((el) => el === document.getElementById('plain'), nodeBefore)).toBe(true);

    // An edit of a module the page imports: in place too.
    fs.writeFileSync(f('_lib/footer.ts'), 'export const footer = () => "f2";');
    await page.waitForFunction(() => document.getElementById('foot')?.textContent === 'f2');
    expect(await page.evaluate(() => [window.mark, (document.getElementById('plain') as HTMLInputElement).value])).toEqual([1, 'hello world']);

    // The source changes a field's own value: the server's new value wins there, and only there.
    fs.writeFileSync(f('form.ts'), formPage('v3', 'Bob'));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'v3');
    expect(await page.evaluate(() => ['name', 'plain', 'notes'].map((id) => (document.getElementById(id) as HTMLInputElement).value))).toEqual([
      'Bob',
      'hello world',
      'my notes',
    ]);
    expect(await page.evaluate(() => window.mark)).toBe(1);
    await page.close();
  });

  it('a changed inline script reloads the page, and the new script runs', async () => {
    fs.writeFileSync(f('form.ts'), formPage('v1'));
    const page = await open('/form');
    expect(await page.evaluate(() => window.ran)).toBe('s1');
    fs.writeFileSync(f('form.ts'), formPage('v1').replace('"s1"', '"s2"'));
    await page.waitForFunction(() => window.ran === 's2');
    expect(await page.evaluate(() => window.mark)).toBeUndefined();
    await page.close();
  });

  it('includes and translations update in place', async () => {
    const page = await browser.newPage({ locale: 'fr-FR', extraHTTPHeaders: { 'accept-language': 'fr' } });
    page.setDefaultTimeout(10_000);
    await page.goto(server.url + '/parts');
    await page.evaluate(() => (window.mark = 1));
    expect(await page.textContent('#t')).toBe('Bonjour');
    await page.fill('#q', 'kept');
    fs.writeFileSync(f('_inc/part.ts'), 'print(`<!doctype html><html><body><h1 id="inc">part 2</h1>`);');
    await page.waitForFunction(() => document.getElementById('inc')?.textContent === 'part 2');
    fs.writeFileSync(f('_translations/fr.json'), '{ "Hello": "Salut" }');
    await page.waitForFunction(() => document.getElementById('t')?.textContent === 'Salut');
    expect(await page.evaluate(() => [window.mark, (document.getElementById('q') as HTMLInputElement).value])).toEqual([1, 'kept']);
    await page.close();
  });

  it('a static .html page updates in place too', async () => {
    const page = await open('/static.html');
    await page.fill('#q', 'kept');
    fs.writeFileSync(f('static.html'), '<!doctype html><html><body><h1>static 2</h1><input id="q"></body></html>');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'static 2');
    expect(await page.evaluate(() => [window.mark, (document.getElementById('q') as HTMLInputElement).value])).toEqual([1, 'kept']);
    await page.close();
  });

  it('a page that answered a POST is not posted again: a note links to a GET', async () => {
    const page = await open('/posted');
    await Promise.all([page.waitForURL('**/posted'), page.waitForLoadState(), page.click('button')]);
    await page.waitForFunction(() => document.getElementById('n')?.textContent === '1');
    await page.evaluate(() => (window.mark = 2));
    fs.writeFileSync(f('posted.ts'), fs.readFileSync(f('posted.ts'), 'utf8').replace('posted v1', 'posted v2'));
    const link = page.locator('kts-note a');
    await link.waitFor();
    expect(await page.locator('kts-note [role=status]').textContent()).toContain('This page changed');
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'note.png') });
    // Nothing was sent: the page is as it was, the counter still 1.
    expect(await page.evaluate(() => [window.mark, document.querySelector('h1')?.textContent, document.getElementById('n')?.textContent])).toEqual([2, 'posted v1', '1']);
    await Promise.all([page.waitForLoadState(), link.click()]);
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'posted v2');
    expect(await page.textContent('#n')).toBe('1');
    await page.close();
  });

  it('a broken save shows an overlay over the page; the next good save removes it, the typed text kept', async () => {
    const page = await open('/breaks');
    await page.fill('#q', 'typed before the error');
    // A syntax error in the imported module.
    fs.writeFileSync(f('_lib/word.ts'), 'export const word = "bad;\n');
    const loc = page.locator('kts-overlay .loc');
    await loc.waitFor();
    expect(await loc.textContent()).toMatch(/^_lib\/word\.ts:1:\d+$/);
    expect(await page.locator('kts-overlay pre').first().textContent()).toContain('> 1 | export const word = "bad;');
    // The page underneath is untouched.
    expect(await page.evaluate(() => [window.mark, document.querySelector('h1')?.textContent, (document.getElementById('q') as HTMLInputElement).value])).toEqual([
      1,
      'good',
      'typed before the error',
    ]);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'overlay.png') });
    fs.writeFileSync(f('_lib/word.ts'), 'export const word = "better";');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'better');
    expect(await page.locator('kts-overlay').count()).toBe(0);
    // Then a runtime error in the page itself, on its second line.
    fs.writeFileSync(f('breaks.ts'), 'const x = 1;\nprint(`<h1>${nope()}</h1>`);');
    await page.waitForFunction(() => document.querySelector('kts-overlay')?.shadowRoot?.querySelector('.loc')?.textContent?.startsWith('breaks.ts:2:'));
    fs.writeFileSync(f('breaks.ts'), 'import { word } from "./_lib/word.ts";\nprint(`<!doctype html><html><body><h1>${word} again</h1><input id="q"></body></html>`);');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'better again');
    expect(await page.locator('kts-overlay').count()).toBe(0);
    expect(await page.evaluate(() => [window.mark, (document.getElementById('q') as HTMLInputElement).value])).toEqual([1, 'typed before the error']);
    await page.close();
  });

  it('a page opened while broken shows the error page, which reloads into the page on the next good save', async () => {
    fs.writeFileSync(f('opened-broken.ts'), 'print(`<h1>${nope()}</h1>`);');
    const page = await open('/opened-broken');
    expect(await page.textContent('p.loc')).toMatch(/^opened-broken\.ts:1:/);
    fs.writeFileSync(f('opened-broken.ts'), 'print(`<!doctype html><html><body><h1>fixed</h1></body></html>`);');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'fixed');
    expect(await page.locator('kts-overlay').count()).toBe(0);
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
    // After a swap, an edit of the page is still in place (the swapped <link> is not a changed head asset).
    await page.fill('#q', 'kept');
    fs.writeFileSync(f('styled.ts'), fs.readFileSync(f('styled.ts'), 'utf8').replace('<h1>styled</h1>', '<h1>styled 2</h1>'));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'styled 2');
    expect(await page.evaluate(() => [window.mark, (document.getElementById('q') as HTMLInputElement).value])).toEqual([1, 'kept']);
    await page.close();
  });

  it('--live full reloads the page on every change', async () => {
    const page = await open('/page', full.url);
    expect(await page.textContent('h1')).toBe('v1');
    fs.writeFileSync(f('page.ts'), 'print(`<!doctype html><html><body><h1>v2</h1></body></html>`);');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'v2');
    expect(await page.evaluate(() => window.mark)).toBeUndefined();
    // And again, with an atomic rename-over save.
    await page.evaluate(() => (window.mark = 1));
    const tmp = f('.page.ts.tmp');
    fs.writeFileSync(tmp, 'print(`<!doctype html><html><body><h1>v3</h1></body></html>`);');
    fs.renameSync(tmp, f('page.ts'));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'v3');
    expect(await page.evaluate(() => window.mark)).toBeUndefined();
    await page.close();
  });

  it("the demo's live-editing page: what the reader did survives an edit of its source", async () => {
    const demo = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-demo-live-'));
    fs.cpSync(path.join(PROJECT, 'www'), demo, { recursive: true });
    const mod = (await import(path.join(PROJECT, 'dist', 'index.js'))) as { createServer(o: Record<string, unknown>): Promise<Server> };
    const site = await mod.createServer({ root: demo, port: 0, host: '127.0.0.1', quiet: true });
    try {
      const page = await open('/live-editing', site.url);
      await page.fill('input[name=name]', 'Reader');
      await page.fill('textarea[name=notes]', 'some notes');
      await page.selectOption('select[name=size]', 'large');
      await page.click('details summary');
      await page.click('#live-counter');
      await page.click('#live-counter');
      await page.evaluate(() => window.scrollTo(0, 300));
      const file = path.join(demo, 'live-editing.ts');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace("const message = 'Edit this sentence", "const message = 'Edited: edit this sentence"));
      await page.waitForFunction(() => document.querySelector('.live-message')?.textContent?.startsWith('Edited'));
      if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'demo.png') });
      expect(
        await page.evaluate(() => [
          window.mark,
          (document.querySelector('input[name=name]') as HTMLInputElement).value,
          (document.querySelector('textarea[name=notes]') as HTMLTextAreaElement).value,
          (document.querySelector('select[name=size]') as HTMLSelectElement).value,
          (document.querySelector('details') as HTMLDetailsElement).open,
          (document.getElementById('live-clicks') as HTMLInputElement).value,
          window.scrollY,
        ]),
      ).toEqual([1, 'Reader', 'some notes', 'large', true, '2', 300]);
      // The counter's variable lives on: the next click counts 3.
      await page.click('#live-counter');
      expect(await page.inputValue('#live-clicks')).toBe('3');
      await page.close();
    } finally {
      await site.close(500);
      fs.rmSync(demo, { recursive: true, force: true });
    }
  });
});
