/** HTML escaping shared by `html```, JSX, `.tsp` and the server's own pages. */

const RAW = Symbol.for('karrigell-ts.raw');

/** A string marked as trusted HTML: `html`, JSX and `<%= %>` insert it as is. */
export interface RawHtml {
  readonly [RAW]: true;
  readonly value: string;
  toString(): string;
}

const rawProto = {
  toString(this: { value: string }): string {
    return this.value;
  },
};

/** Marks `text` as trusted HTML. */
export function raw(text: unknown): RawHtml {
  if (isRaw(text)) return text;
  const r = Object.create(rawProto) as { value: string; [RAW]: true };
  r.value = text == null ? '' : String(text);
  r[RAW] = true;
  return r as unknown as RawHtml;
}

/** True for a value made by `raw()`. */
export function isRaw(value: unknown): value is RawHtml {
  return typeof value === 'object' && value !== null && (value as { [RAW]?: unknown })[RAW] === true;
}

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    let rep: string;
    switch (text.charCodeAt(i)) {
      case 38: rep = '&amp;'; break; // &
      case 60: rep = '&lt;'; break; // <
      case 62: rep = '&gt;'; break; // >
      case 34: rep = '&quot;'; break; // "
      case 39: rep = '&#39;'; break; // '
      default: continue;
    }
    if (last !== i) out += text.slice(last, i);
    out += rep;
    last = i + 1;
  }
  return last === 0 ? text : last < text.length ? out + text.slice(last) : out;
}

/** Escapes any value for HTML; `raw()` values, null and undefined are special. */
export function toHtml(value: unknown): string {
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number') return String(value);
  if (value == null || value === false) return '';
  if (isRaw(value)) return value.value;
  if (Array.isArray(value)) return value.map(toHtml).join('');
  return escapeHtml(String(value));
}

/**
 * `<%= value %>` of a `.tsp` page, written as EJS writes it (SPEC §3):
 * null and undefined are nothing, `false` and numbers their text, an array
 * its items joined with commas; escaped, except what `raw()` marked.
 */
export function tspEscaped(value: unknown): string {
  if (value == null) return '';
  if (isRaw(value)) return value.value;
  if (Array.isArray(value)) return value.map(tspEscaped).join(',');
  return escapeHtml(String(value));
}

/** `<%- value %>` of a `.tsp` page: its text as is (EJS), null and undefined nothing. */
export function tspRaw(value: unknown): string {
  return value == null ? '' : String(value);
}

/**
 * Attributes holding a URL that a browser may navigate to or load: a
 * `javascript:` value is written only when marked trusted with raw().
 */
export const URL_ATTRIBUTES = new Set(
  ('href src action formaction xlink:href poster cite background data codebase longdesc manifest ping ' +
    'profile usemap classid archive lowsrc dynsrc itemtype')
    .split(' '),
);
/** What a browser runs as `javascript:` (React's pattern: leading C0/space, tab/CR/LF anywhere in the scheme). */
const JAVASCRIPT_URL = /^[\u0000-\u001F ]*j[\r\n\t]*a[\r\n\t]*v[\r\n\t]*a[\r\n\t]*s[\r\n\t]*c[\r\n\t]*r[\r\n\t]*i[\r\n\t]*p[\r\n\t]*t[\r\n\t]*:/i;
/** True when a browser would run `url` as JavaScript (`javascript:` with the blanks and controls it ignores). */
export function isJavaScriptUrl(url: string): boolean {
  return JAVASCRIPT_URL.test(url);
}

/** What a `.tsp` output tag writes in place of a `javascript:` URL that was not marked trusted. */
export const BLOCKED_URL = 'about:invalid#blocked';

/**
 * `<%= value %>` of a `.tsp` page written inside a start tag (SPEC §3, safe
 * by default); `where` is decided at compile time from the HTML around the
 * tag (syntax/tsp.ts): `n` an attribute name position, else a letter and the
 * attribute name — `q` at the start of a quoted value, `m` further in a quoted
 * value, `u`/`w` the same in an unquoted value. Values marked with raw() are
 * written as they are.
 *   - in an `on*` attribute: a JavaScript string escape of every character
 *     but letters, digits and `_,.-` (the browser decodes entities before
 *     running the code, so HTML escaping alone would let `');alert(1)//` out);
 *   - at the start of a URL attribute: a `javascript:` URL becomes BLOCKED_URL;
 *   - unquoted: blanks, `=` and backquotes escaped too (they would end the value);
 *   - attribute name position: only an attribute name that is not `on*` (or nothing).
 */
export function tspInTag(value: unknown, where: string): string {
  if (isRaw(value)) return value.value;
  const kind = where[0];
  const attr = where.slice(2).toLowerCase();
  if (kind === 'n') {
    const text = tspEscaped(value);
    return /^[A-Za-z_:][-A-Za-z0-9_:.]*$/.test(text) && !/^on/i.test(text) ? text : '';
  }
  if (attr.length > 2 && attr.startsWith('on')) {
    const text = value == null ? '' : Array.isArray(value) ? tspEscaped(value) : String(value);
    return text.replace(/[^A-Za-z0-9_,.-]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  let text = tspEscaped(value);
  if ((kind === 'q' || kind === 'u') && URL_ATTRIBUTES.has(attr) && isJavaScriptUrl(decodeBasicEntities(text))) text = BLOCKED_URL;
  if (kind === 'u' || kind === 'w') text = text.replace(/[\s=`]/g, (c) => `&#${c.charCodeAt(0)};`);
  return text;
}

/** Undoes escapeHtml (what tspEscaped wrote), to see the URL a browser will read. */
function decodeBasicEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

/** Tagged template: ``html`<b>${x}</b>` `` escapes every value that is not `raw`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += toHtml(values[i]) + strings[i + 1]!;
  return raw(out);
}
