/**
 * The names of a script's scope are one table (src/scope-names.ts): the
 * runtime provides exactly them, the shipped declarations declare them, and a
 * page can use every one of them.
 */
import { describe, expect, it, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { SCOPE_NAMES, SCOPE_NAME_TABLE, namesOf } from '../dist/scope-names.js';
import { providedNames } from '../dist/script/scope.js';
import { MODULE_NAMES } from '../dist/script/request-names.js';
import { scopeExtensions } from '../dist/server.js';
import { createMemorySessions } from '../dist/session/memory.js';
import { createTranslations } from '../dist/names/translate.js';
import { createModuleRegistry } from '../dist/script/modules.js';
import { PROJECT, startServer, tempSite, type Running } from './helpers.js';

const sorted = (names: Iterable<string>): string[] => [...names].sort();

describe('one table of the names in a script’s scope', () => {
  const root = tempSite({});
  const extensions = scopeExtensions(createMemorySessions(10, 0), createTranslations(root), createModuleRegistry(), root);

  it('the runtime provides exactly the names of the table', () => {
    expect(sorted(providedNames(extensions))).toEqual(sorted(SCOPE_NAMES));
  });

  it('the request’s own names are the scope’s base, the others come from server.ts’s extensions', () => {
    expect(sorted(providedNames({}))).toEqual(sorted([...namesOf('request'), ...namesOf('internal')]));
    expect(sorted(Object.keys(extensions))).toEqual(sorted(SCOPE_NAMES.filter((n) => !['request', 'internal'].includes(SCOPE_NAME_TABLE[n]))));
  });

  it('a site module reads exactly the names of the table (request-names.ts)', () => {
    expect(sorted(Object.keys(MODULE_NAMES))).toEqual(sorted(SCOPE_NAMES));
  });

  it('types/globals.d.ts declares every name users may use, and nothing else', () => {
    const dts = fs.readFileSync(path.join(PROJECT, 'types', 'globals.d.ts'), 'utf8');
    const declared = new Set([...dts.matchAll(/^ {2}(?:const|function)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!));
    expect(sorted(declared)).toEqual(sorted(SCOPE_NAMES.filter((n) => SCOPE_NAME_TABLE[n] !== 'internal')));
  });

  describe('a page uses every name', () => {
    let srv: Running;
    afterAll(async () => srv?.close());
    it('each name is bound in a page (no ReferenceError)', async () => {
      const names = SCOPE_NAMES.filter((n) => SCOPE_NAME_TABLE[n] !== 'internal');
      const body = names.map((n) => `try { void ${n}; r.push(${JSON.stringify(n)}); } catch (e) { r.push("MISSING " + ${JSON.stringify(n)} + ": " + e); }`).join('\n');
      fs.writeFileSync(path.join(root, 'all.ts'), `RESPONSE.headers["content-type"] = "text/plain";\nconst r: string[] = [];\n${body}\nprint(r.join(","));\n`);
      srv = await startServer(root);
      const text = (await (await fetch(srv.url + '/all')).text()).trim();
      expect(text.split(',')).toEqual(names);
    });

    it('each name is bound in a site module, during a request (no ReferenceError, no OutsideRequestError)', async () => {
      const names = SCOPE_NAMES.filter((n) => SCOPE_NAME_TABLE[n] !== 'internal');
      const body = names.map((n) => `try { void ${n}; r.push(${JSON.stringify(n)}); } catch (e) { r.push("MISSING " + ${JSON.stringify(n)} + ": " + e); }`).join('\n');
      fs.mkdirSync(path.join(root, '_lib'), { recursive: true });
      fs.writeFileSync(path.join(root, '_lib', 'all.ts'), `export async function all(): Promise<string> {\nawait null;\nconst r: string[] = [];\n${body}\nreturn r.join(",");\n}\n`);
      fs.writeFileSync(path.join(root, 'all-module.ts'), `import { all } from './_lib/all.ts';\nRESPONSE.headers["content-type"] = "text/plain";\nprint(await all());\n`);
      srv ??= await startServer(root);
      const text = (await (await fetch(srv.url + '/all-module')).text()).trim();
      expect(text.split(',')).toEqual(names);
    });
  });
});
