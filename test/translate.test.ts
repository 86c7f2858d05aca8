/** _(text) and ROOT/_translations/LANG.json (SPEC §6), against the real server and directly. */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from '../dist/index.js';
import { createTranslations, candidateTags, locateJsonError } from '../dist/names/translate.js';
import { tempSite, outside, rawRequest, writeFiles } from './helpers.js';

const JSON_OUT = 'RESPONSE.headers["content-type"] = "application/json";\n';

let root: string;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  root = tempSite({
    't.ts': `${JSON_OUT}print(JSON.stringify({ hello: _("Hello"), bye: _("Goodbye"), none: _("Untranslated") }));\n`,
    'one.ts': `${JSON_OUT}print(JSON.stringify(_(String(QUERY.text))));\n`,
    'page.tsp': '<p><%_ "Hello" %></p>\n',
    'plain.ts': 'print("no translations here");\n',
    '_translations/fr.json': JSON.stringify({ Hello: 'Bonjour', Goodbye: 'Au revoir' }),
    '_translations/fr-ca.json': JSON.stringify({ Hello: 'Allô' }),
    // An empty translation means "not translated yet": the next language is tried.
    '_translations/de.json': JSON.stringify({ Hello: 'Hallo', Goodbye: '' }),
    '_translations/zh.json': JSON.stringify({ Hello: '你好', '<b>': '<i>' }),
    '_translations/xx.json': '{\n  "Hello": "Xello",\n  "Goodbye": \n}\n',
    '_translations/yy.json': JSON.stringify({ Hello: 3 }),
    '_translations/zz.json': '[1, 2]',
    '_translations/bom.json': '\ufeff{"Hello": "BOM hello"}',
    '_translations/empty.json': '',
    '_translations/edit.json': JSON.stringify({ Hello: 'Before edit' }),
  });
  // Files outside ROOT that a path built from a language tag could reach.
  writeFiles(outside(root), { 'secret.json': JSON.stringify({ Hello: 'LEAKED' }), '_translations/secret.json': JSON.stringify({ Hello: 'LEAKED' }) });
  writeFiles(root, { 'secret.json': JSON.stringify({ Hello: 'LEAKED' }) });
  const running = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true }, { access() {}, info() {}, error() {} });
  url = running.url;
  close = () => running.close(500);
});

afterAll(async () => {
  await close?.();
});

interface Out {
  hello: string;
  bye: string;
  none: string;
}

async function t(lang?: string | string[]): Promise<Out> {
  const res = await rawRequest(url, '/t', { headers: lang === undefined ? {} : { 'accept-language': lang } });
  expect(res.status, res.text.slice(0, 500)).toBe(200);
  return JSON.parse(res.text) as Out;
}

describe('_() over HTTP', () => {
  it('returns the text unchanged without Accept-Language', async () => {
    expect(await t()).toEqual({ hello: 'Hello', bye: 'Goodbye', none: 'Untranslated' });
  });

  it('translates into the exact language, whatever the case of the tag', async () => {
    expect(await t('fr')).toEqual({ hello: 'Bonjour', bye: 'Au revoir', none: 'Untranslated' });
    expect(await t('FR')).toEqual({ hello: 'Bonjour', bye: 'Au revoir', none: 'Untranslated' });
    expect((await t('zh')).hello).toBe('你好');
  });

  it('uses the full tag first, then its primary subtag (fr-CA → fr-ca.json, then fr.json)', async () => {
    expect(await t('fr-CA')).toEqual({ hello: 'Allô', bye: 'Au revoir', none: 'Untranslated' });
    expect(await t('fr-BE')).toEqual({ hello: 'Bonjour', bye: 'Au revoir', none: 'Untranslated' });
    expect((await t('zh-Hant-TW')).hello).toBe('你好');
  });

  it('tries a region\'s primary language before the next language', async () => {
    expect((await t('fr-BE, de')).hello).toBe('Bonjour');
  });

  it('follows q ordering, not header order', async () => {
    expect((await t('fr;q=0.4, de;q=0.9')).hello).toBe('Hallo');
    expect((await t('de;q=0.5, fr')).hello).toBe('Bonjour');
    expect((await t('de;q=0, fr;q=0.1')).hello).toBe('Bonjour'); // q=0: not acceptable
  });

  it('falls back to the next language for a text the first one lacks (or leaves empty)', async () => {
    expect(await t('de, fr;q=0.5')).toEqual({ hello: 'Hallo', bye: 'Au revoir', none: 'Untranslated' });
    expect(await t('de')).toEqual({ hello: 'Hallo', bye: 'Goodbye', none: 'Untranslated' });
  });

  it('skips languages without a file', async () => {
    expect(await t('es, it;q=0.9, fr;q=0.8')).toEqual({ hello: 'Bonjour', bye: 'Au revoir', none: 'Untranslated' });
    expect(await t('es, *;q=0.5')).toEqual({ hello: 'Hello', bye: 'Goodbye', none: 'Untranslated' });
  });

  it('returns the translation as is (escaping is the page\'s business) and works in .tsp <%_ %>', async () => {
    const one = await rawRequest(url, '/one?text=%3Cb%3E', { headers: { 'accept-language': 'zh' } });
    expect(JSON.parse(one.text)).toBe('<i>');
    const tsp = await rawRequest(url, '/page', { headers: { 'accept-language': 'fr-ca' } });
    expect(tsp.status, tsp.text.slice(0, 500)).toBe(200);
    expect(tsp.text).toContain('<p>Allô</p>');
  });

  it('ignores a UTF-8 BOM; an empty file is a language without translations yet', async () => {
    expect((await t('bom')).hello).toBe('BOM hello');
    expect((await t('empty, fr;q=0.5')).hello).toBe('Bonjour');
  });

  it('never builds a path from an unsafe tag: nothing outside _translations is read', async () => {
    for (const lang of ['../secret', '../../secret', '..%2fsecret', '..\\secret', 'secret/../../secret', '.., ..', '*/../secret', '_translations/../secret']) {
      const res = await rawRequest(url, '/t', { headers: { 'accept-language': lang } });
      expect(res.status, lang).toBe(200);
      expect(res.text, lang).not.toContain('LEAKED');
    }
    // (../secret.json would be ROOT/secret.json, ../../secret.json the folder above ROOT.)
    expect(candidateTags(['../secret', '..', 'a/b', 'en-*', '*', 'fr.json', 'x\u0000', 'fr-ca', 'zh-hant-tw', 'fr'])).toEqual(['fr-ca', 'fr', 'zh-hant-tw', 'zh-hant', 'zh']);
    expect(candidateTags(['a'.repeat(65), 'de'])).toEqual(['de']);
  });
});

describe('malformed translation files', () => {
  it('a file with bad JSON is a 500 naming the file and the line, only for pages that use that language', async () => {
    const res = await rawRequest(url, '/t', { headers: { 'accept-language': 'xx' } });
    expect(res.status).toBe(500);
    expect(res.text).toContain('_translations/xx.json: invalid JSON at line 4, column 1');
    // The rest of the site keeps working, in the same language too.
    expect((await rawRequest(url, '/plain', { headers: { 'accept-language': 'xx' } })).status).toBe(200);
    expect((await t('fr')).hello).toBe('Bonjour');
    // A language ranked after one that has the text is not even read.
    const one = await rawRequest(url, '/one?text=Hello', { headers: { 'accept-language': 'fr, xx;q=0.5' } });
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text)).toBe('Bonjour');
    // …but a text fr.json lacks goes on to xx.json, and fails there.
    expect((await rawRequest(url, '/one?text=Nope', { headers: { 'accept-language': 'fr, xx;q=0.5' } })).status).toBe(500);
  });

  it('a file that is not an object of strings is a 500 naming the file and the key', async () => {
    const yy = await rawRequest(url, '/t', { headers: { 'accept-language': 'yy' } });
    expect(yy.status).toBe(500);
    expect(yy.text).toContain('_translations/yy.json: must be a JSON object of strings');
    expect(yy.text).toContain('Hello');
    const zz = await rawRequest(url, '/t', { headers: { 'accept-language': 'zz' } });
    expect(zz.status).toBe(500);
    expect(zz.text).toContain('_translations/zz.json: must be a JSON object of strings');
    expect(zz.text).toContain('an array');
  });

  it('fixing the file makes the next request work, without a restart', async () => {
    const file = path.join(root, '_translations', 'broken-then-fixed.json');
    fs.writeFileSync(file, '{"Hello": "Fixed",,}');
    const bad = await rawRequest(url, '/t', { headers: { 'accept-language': 'broken-then-fixed' } });
    expect(bad.status).toBe(500);
    expect(bad.text).toContain('_translations/broken-then-fixed.json: invalid JSON at line 1, column 19');
    fs.writeFileSync(file, '{"Hello": "Fixed"}');
    expect((await t('broken-then-fixed')).hello).toBe('Fixed');
    fs.writeFileSync(file, '{"Hello": "Fixed"'); // broken again
    expect((await rawRequest(url, '/t', { headers: { 'accept-language': 'broken-then-fixed' } })).status).toBe(500);
  });

  it('JSON errors get a line and column even when V8 gives no position', () => {
    expect(locateJsonError('{\n  "a": "b",\n  "c": }')).toEqual({ offset: 21, reason: "unexpected '}'" });
    expect(locateJsonError('{"a": "b",}')).toEqual({ offset: 10, reason: 'trailing comma before }' });
    expect(locateJsonError("{'a': 1}")?.offset).toBe(1);
    expect(locateJsonError('{"a": "b"} x')?.reason).toContain('after the end');
    expect(locateJsonError('{"a": ["b", 1.5e3, null, {"c": "\\u00e9"}]}')).toBeUndefined();
  });
});

describe('editing translation files', () => {
  it('an edit takes effect at the next request (checked by mtime, no watcher needed)', async () => {
    expect((await t('edit')).hello).toBe('Before edit');
    const file = path.join(root, '_translations', 'edit.json');
    fs.writeFileSync(file, JSON.stringify({ Hello: 'After edit, longer' }));
    expect((await t('edit')).hello).toBe('After edit, longer');
    // Same size, mtime put back: still seen (ctime changes).
    const { mtime } = fs.statSync(file);
    fs.writeFileSync(file, JSON.stringify({ Hello: 'After edit, LONGER' }));
    fs.utimesSync(file, mtime, mtime);
    expect((await t('edit')).hello).toBe('After edit, LONGER');
  });

  it('creating a file for a language adds it; deleting it removes it', async () => {
    const file = path.join(root, '_translations', 'pt.json');
    expect((await t('pt')).hello).toBe('Hello');
    fs.writeFileSync(file, JSON.stringify({ Hello: 'Olá' }));
    expect((await t('pt-BR')).hello).toBe('Olá');
    fs.rmSync(file);
    expect((await t('pt')).hello).toBe('Hello');
  });
});

describe('createTranslations() directly', () => {
  const fakeCtx = (lang: string | undefined, deps?: Set<string>) =>
    ({ req: { headers: lang === undefined ? {} : { 'accept-language': lang } }, deps }) as unknown as Parameters<ReturnType<typeof createTranslations>['extension']>[0];

  it('records every translation file looked at in ctx.deps, missing ones included', () => {
    const tr = createTranslations(root);
    const deps = new Set<string>();
    const _ = tr.extension(fakeCtx('fr-CA, es;q=0.5', deps));
    expect(_('Untranslated')).toBe('Untranslated');
    const dir = path.join(fs.realpathSync(root), '_translations');
    expect([...deps].sort()).toEqual([path.join(dir, 'es.json'), path.join(dir, 'fr-ca.json'), path.join(dir, 'fr.json')]);
    // Only the files reached: a text found in fr-ca.json does not look further.
    const deps2 = new Set<string>();
    expect(tr.extension(fakeCtx('fr-CA, es;q=0.5', deps2))('Hello')).toBe('Allô');
    expect([...deps2]).toEqual([path.join(dir, 'fr-ca.json')]);
    // Without ctx.deps (production) nothing breaks.
    expect(tr.extension(fakeCtx('fr'))('Hello')).toBe('Bonjour');
    expect(tr.extension(fakeCtx(undefined))('Hello')).toBe('Hello');
  });

  it('reads each file once, until it changes or forget() drops it', () => {
    const dir = fs.mkdtempSync(path.join(outside(root), 'direct-'));
    fs.mkdirSync(path.join(dir, '_translations'));
    const file = path.join(dir, '_translations', 'fr.json');
    fs.writeFileSync(file, JSON.stringify({ Hello: 'Bonjour' }));
    const tr = createTranslations(dir);
    const spy = vi.spyOn(fs, 'readFileSync');
    try {
      const reads = (): number => spy.mock.calls.filter((c) => String(c[0]) === file).length;
      for (let i = 0; i < 5; i++) expect(tr.extension(fakeCtx('fr'))('Hello')).toBe('Bonjour');
      expect(reads()).toBe(1);
      tr.forget(file);
      expect(tr.extension(fakeCtx('fr'))('Hello')).toBe('Bonjour');
      expect(reads()).toBe(2);
      tr.forget(path.join(dir, '_translations')); // a whole folder
      expect(tr.extension(fakeCtx('fr'))('Hello')).toBe('Bonjour');
      expect(reads()).toBe(3);
      fs.writeFileSync(file, JSON.stringify({ Hello: 'Salut' }));
      expect(tr.extension(fakeCtx('fr'))('Hello')).toBe('Salut');
      expect(reads()).toBe(4);
    } finally {
      spy.mockRestore();
    }
  });

  it('one request\'s _ is one function that throws the file error on each call', () => {
    const tr = createTranslations(root);
    const ctx = fakeCtx('xx');
    const _ = tr.extension(ctx);
    expect(tr.extension(ctx)).toBe(_);
    expect(() => _('Hello')).toThrow(/^_translations\/xx\.json: invalid JSON at line 4, column 1: /);
    expect(() => _('Hello')).toThrow(/xx\.json/);
  });
});
