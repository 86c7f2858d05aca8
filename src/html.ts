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

/** Tagged template: ``html`<b>${x}</b>` `` escapes every value that is not `raw`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += toHtml(values[i]) + strings[i + 1]!;
  return raw(out);
}
