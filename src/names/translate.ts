/** _(text) and ROOT/_translations/LANG.json (SPEC §6). */
import fs from 'node:fs';
import path from 'node:path';
import { acceptedLanguages } from '../script/scope.js';
import type { PageContext } from '../script/context.js';

export interface Translations {
  /** The `_` of one request's scope. */
  extension(ctx: PageContext): (text: string) => string;
  /** The `SET_LANGUAGE` of one request's scope: `_()` translates into that tag first for the rest of the request. */
  setLanguage(ctx: PageContext): (tag: string) => void;
  /** Forgets a cached translation file (the watcher calls it when the file changes). */
  forget(file: string): void;
}

/** The folder of the translation files, relative to ROOT. */
export const TRANSLATIONS_DIR = '_translations';

/** A tag that may become a file name: lower-case letters, digits and inner hyphens only. */
const SAFE_TAG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_TAG_LENGTH = 64;
/** At most this many languages of one Accept-Language header are considered. */
const MAX_LANGUAGES = 16;

/** What is known about one translation file. */
interface Entry {
  /** Identity of the file version this entry was read from (`null` when the file was missing). */
  stamp: string | null;
  table?: Map<string, string>;
  error?: string;
}

/**
 * The files to look at for these languages, best first: each tag, then its
 * shorter prefixes (`fr-ca` → `fr`, `zh-hant-tw` → `zh-hant` → `zh`), before
 * the next language. Unsafe tags (`*`, anything but `[a-z0-9-]`) are skipped.
 */
export function candidateTags(languages: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const lang of languages.slice(0, MAX_LANGUAGES)) {
    const tag = lang.toLowerCase();
    if (tag.length > MAX_TAG_LENGTH || !SAFE_TAG.test(tag)) continue;
    const parts = tag.split('-');
    for (let n = parts.length; n > 0; n--) {
      const t = parts.slice(0, n).join('-');
      if (!seen.has(t)) {
        seen.add(t);
        out.push(t);
      }
    }
  }
  return out;
}

const MISSING: Entry = Object.freeze({ stamp: null });

/** Translations of the site in `root`. */
export function createTranslations(root: string): Translations {
  const dir = path.join(path.resolve(root), TRANSLATIONS_DIR);
  const cache = new Map<string, Entry>();
  /** The `_` of each request, built on its first use. */
  const perRequest = new WeakMap<PageContext, (text: string) => string>();
  /**
   * The language a request chose with SET_LANGUAGE, keyed by its Node request:
   * the scripts it includes (their own contexts, same request) follow it too.
   */
  const chosen = new WeakMap<object, string>();

  /** The entry of `file`, re-read when the file changed since it was cached. */
  function load(file: string, tag: string): Entry {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(file, { throwIfNoEntry: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return MISSING; // _translations is not a folder
      return { stamp: null, error: `${TRANSLATIONS_DIR}/${tag}.json: cannot be read (${(err as Error).message})` };
    }
    if (!stat) {
      // Missing files are not cached: any tag a client sends would grow the cache.
      cache.delete(file);
      return MISSING;
    }
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
    const cached = cache.get(file);
    if (cached && cached.stamp === stamp) return cached;
    const entry = read(file, tag, stamp, stat);
    if (entry.stamp === null) cache.delete(file);
    else cache.set(file, entry);
    return entry;
  }

  function extension(ctx: PageContext): (text: string) => string {
    let fn = perRequest.get(ctx);
    if (fn) return fn;
    const accepted = acceptedLanguages(headerOf(ctx.req.headers['accept-language']));
    let language: string | undefined;
    let tags: string[] = [];
    // Each file is checked once per request (per chosen language): later calls reuse what was found.
    let tables: (Entry | undefined)[] = [];
    const choose = (tag: string | undefined): void => {
      language = tag;
      tags = candidateTags(tag ? [tag, ...accepted] : accepted);
      tables = new Array(tags.length);
    };
    choose(chosen.get(ctx.req));
    const tableAt = (i: number): Entry => {
      let entry = tables[i];
      if (!entry) {
        const file = path.join(dir, `${tags[i]}.json`);
        ctx.deps?.add(file);
        entry = load(file, tags[i]!);
        // A broken file is looked at again on the next call (it may have been fixed meanwhile).
        if (!entry.error) tables[i] = entry;
      }
      return entry;
    };
    fn = function _(text: string): string {
      const key = typeof text === 'string' ? text : String(text);
      const want = chosen.get(ctx.req);
      if (want !== language) choose(want);
      for (let i = 0; i < tags.length; i++) {
        const entry = tableAt(i);
        if (entry.error) throw new Error(entry.error);
        const found = entry.table?.get(key);
        if (found) return found;
      }
      return key;
    };
    perRequest.set(ctx, fn);
    return fn;
  }

  function setLanguage(ctx: PageContext): (tag: string) => void {
    return function SET_LANGUAGE(tag: string): void {
      const lower = typeof tag === 'string' ? tag.trim().toLowerCase() : '';
      if (!lower || lower.length > MAX_TAG_LENGTH || !SAFE_TAG.test(lower)) {
        throw new TypeError(`SET_LANGUAGE(${JSON.stringify(tag)?.slice(0, 80) ?? String(tag)}): not a language tag (letters, digits and hyphens, e.g. "fr" or "pt-br")`);
      }
      chosen.set(ctx.req, lower);
    };
  }

  function forget(file: string): void {
    const abs = path.resolve(file);
    cache.delete(abs);
    // A whole folder forgotten (e.g. _translations/ removed): drop what is under it.
    const prefix = abs.endsWith(path.sep) ? abs : abs + path.sep;
    for (const key of cache.keys()) if (key.startsWith(prefix)) cache.delete(key);
  }

  return { extension, setLanguage, forget };
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** Reads and checks one translation file. */
function read(file: string, tag: string, stamp: string, stat: fs.Stats): Entry {
  const name = `${TRANSLATIONS_DIR}/${tag}.json`;
  if (!stat.isFile()) return { stamp, error: `${name}: is not a file` };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Removed between the stat and the read: as if missing.
    if (code === 'ENOENT') return { stamp: null };
    return { stamp, error: `${name}: cannot be read (${(err as Error).message})` };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // A file just created and still empty: no translations yet.
  if (!text.trim()) return { stamp, table: new Map() };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { stamp, error: `${name}: ${describeJsonError(text, (err as Error).message)}` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { stamp, error: `${name}: must be a JSON object of strings, e.g. {"Hello": "Bonjour"}, but it is ${Array.isArray(data) ? 'an array' : data === null ? 'null' : `a ${typeof data}`}` };
  }
  const table = new Map<string, string>();
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') {
      const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
      return { stamp, error: `${name}: must be a JSON object of strings, e.g. {"Hello": "Bonjour"}, but the value of ${JSON.stringify(key)} is ${kind}` };
    }
    table.set(key, value);
  }
  return { stamp, table };
}

/** `invalid JSON at line L, column C: reason` for text that JSON.parse rejected with `message`. */
function describeJsonError(text: string, message: string): string {
  let found: { offset: number; reason: string } | undefined;
  try {
    found = locateJsonError(text);
  } catch {
    found = undefined; // nested too deeply for the checker
  }
  if (!found) return `invalid JSON: ${message}`;
  const before = text.slice(0, found.offset);
  const line = before.split('\n').length;
  const column = found.offset - (before.lastIndexOf('\n') + 1) + 1;
  return `invalid JSON at line ${line}, column ${column}: ${found.reason}`;
}

/**
 * Where the first JSON syntax error of `text` is, and why (V8's messages do
 * not always give a position, and some quote the whole text).
 */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  class Fail {
    constructor(
      readonly offset: number,
      readonly reason: string,
    ) {}
  }
  const what = (at: number): string => {
    const c = text[at];
    if (c === undefined) return 'end of file';
    return c === "'" ? `"'"` : `'${c.charCodeAt(0) < 0x20 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c}'`;
  };
  const fail = (reason: string, at = i): never => {
    throw new Fail(at, reason);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(c === 0x0a ? 'line break inside a string (write \\n)' : 'control character inside a string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in a string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`bad escape \\${e ?? ''} in a string`);
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before }' : `expected a double-quoted property name, found ${what(i)}`);
        str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after a property name, found ${what(i)}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after a property value, found ${what(i)}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']') fail('trailing comma before ]');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after an array element, found ${what(i)}`);
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail(c === "'" ? "strings must use double quotes, found '" : `unexpected ${what(i)}`);
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${what(i)} after the end of the JSON value`);
  } catch (err) {
    if (err instanceof Fail) return { offset: err.offset, reason: err.reason };
    throw err;
  }
  return undefined;
}
