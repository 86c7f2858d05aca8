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

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const ESCAPE_RE = /[&<>"']/g;
const NEEDS_ESCAPE = /[&<>"']/;

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPE_RE, (c) => ESCAPES[c]!) : text;
}

/** Escapes any value for HTML; `raw()` values, null and undefined are special. */
export function toHtml(value: unknown): string {
  if (value == null || value === false) return '';
  if (isRaw(value)) return value.value;
  if (Array.isArray(value)) return value.map(toHtml).join('');
  return escapeHtml(String(value));
}

/** Tagged template: ``html`<b>${x}</b>` `` escapes every value that is not `raw`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += toHtml(values[i]) + strings[i + 1]!;
  return raw(out);
}
