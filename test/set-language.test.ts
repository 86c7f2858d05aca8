/**
 * SET_LANGUAGE(tag) (SPEC §4, §6): for the rest of the request `_()`
 * translates into tag first (with its prefix fallback), then into the
 * languages of Accept-Language; the scripts the page includes and the modules
 * it calls follow the choice; a bad tag is a clear error.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testSite, type TestSite } from '../dist/testing.js';
import { tempSite } from './helpers.js';

let site: TestSite;

beforeAll(async () => {
  const root = tempSite({
    '_translations/fr.json': JSON.stringify({ Hello: 'Bonjour', Bye: 'Au revoir' }),
    '_translations/de.json': JSON.stringify({ Hello: 'Hallo', Only: 'Nur deutsch' }),
    '_translations/pt.json': JSON.stringify({ Hello: 'Olá' }),
    // Before SET_LANGUAGE, after it, and a key only the header's language has.
    'page.ts': "print(_('Hello'));\nif (QUERY.lang) SET_LANGUAGE(String(QUERY.lang));\nprint(_('Hello'), _('Only'), _('Bye'));\nawait Include('_part.ts');\n",
    '_part.ts': "print('part:', _('Hello'));\n",
    // The visitor's choice kept in the session, applied by a module.
    '_lib/lang.ts': "export function applyLanguage(): void {\n  const so = Session();\n  if (QUERY.choose) so.lang = String(QUERY.choose);\n  if (so.lang) SET_LANGUAGE(so.lang);\n}\n",
    'chosen.ts': "import { applyLanguage } from './_lib/lang.ts';\napplyLanguage();\nprint(_('Hello'));\n",
  });
  site = await testSite(root, { production: true });
});
afterAll(async () => site?.close());

describe('SET_LANGUAGE', () => {
  it('without it, _() follows Accept-Language', async () => {
    const r = await site.get('/page', { headers: { 'accept-language': 'de' } });
    expect(r.text).toBe('Hallo\nHallo Nur deutsch Bye\npart: Hallo\n');
  });

  it('after it, _() translates into the tag first, then Accept-Language; the included script follows', async () => {
    const r = await site.get('/page?lang=fr', { headers: { 'accept-language': 'de' } });
    expect(r.text).toBe('Hallo\nBonjour Nur deutsch Au revoir\npart: Bonjour\n');
  });

  it('a regional tag falls back to its language (pt-BR → pt); case does not matter', async () => {
    const r = await site.get('/page?lang=pt-BR');
    expect(r.text).toBe('Hello\nOlá Only Bye\npart: Olá\n');
  });

  it('a choice kept in the session, applied by a module, lasts across requests', async () => {
    const v = site.visitor();
    expect((await v.get('/chosen', { headers: { 'accept-language': 'de' } })).text).toBe('Hallo\n');
    expect((await v.get('/chosen?choose=fr', { headers: { 'accept-language': 'de' } })).text).toBe('Bonjour\n');
    expect((await v.get('/chosen', { headers: { 'accept-language': 'de' } })).text).toBe('Bonjour\n');
    // Another visitor has not chosen.
    expect((await site.visitor().get('/chosen', { headers: { 'accept-language': 'de' } })).text).toBe('Hallo\n');
  });

  it('a tag that is not a language tag is an error that says so', async () => {
    const r = await site.get('/page?lang=' + encodeURIComponent('../../etc/passwd'), { headers: { accept: 'text/plain' } });
    expect(r.status).toBe(500);
    // Production: the details are in the log, not in the answer; development shows them.
    const dev = await testSite(tempSite({ 'p.ts': "SET_LANGUAGE('../x');\n" }));
    try {
      const d = await dev.get('/p', { headers: { accept: 'text/html' } });
      expect(d.status).toBe(500);
      expect(d.text).toContain('not a language tag');
    } finally {
      await dev.close();
    }
  });
});
