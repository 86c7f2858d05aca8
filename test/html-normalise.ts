/**
 * Normalises HTML for differential tests against reference renderers
 * (react-dom/server, preact-render-to-string, ejs): only serialisation
 * details are evened out — attribute quoting, order and name case, `<br/>`
 * vs `<br>`, `disabled` vs `disabled=""`, entity spelling (`&#39;` vs
 * `&#x27;`, `>` vs `&gt;`). Text, attribute values, elements and their
 * order are kept, so any difference a browser would see remains.
 */

const RAW_TEXT = new Set(['script', 'style']);
const TAG = /<(\/?)([A-Za-z][^\s/>]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/y;
const ATTRIBUTE = /\s+([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

/** Decodes the character references our renderers and the references write. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|nbsp);/gi, (whole, ref: string) => {
    const r = ref.toLowerCase();
    if (r.startsWith('#x')) return String.fromCodePoint(parseInt(r.slice(2), 16));
    if (r.startsWith('#')) return String.fromCodePoint(parseInt(r.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' } as Record<string, string>)[r] ?? whole;
  });
}

const encodeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const encodeAttribute = (s: string): string => encodeText(s).replace(/"/g, '&quot;');

/** The HTML with serialisation details evened out (see the module comment). */
export function normaliseHtml(html: string): string {
  let out = '';
  let i = 0;
  let rawUntil: string | undefined;
  while (i < html.length) {
    if (rawUntil) {
      const end = html.toLowerCase().indexOf(`</${rawUntil}`, i);
      const stop = end < 0 ? html.length : end;
      out += html.slice(i, stop);
      i = stop;
      rawUntil = undefined;
      continue;
    }
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? html.length : lt;
    if (textEnd > i) out += encodeText(decodeEntities(html.slice(i, textEnd)));
    if (lt < 0) break;
    TAG.lastIndex = lt;
    const m = TAG.exec(html);
    if (!m) {
      out += '&lt;';
      i = lt + 1;
      continue;
    }
    const [whole, close, name, attrs] = m;
    const tag = name!.toLowerCase();
    if (close) out += `</${tag}>`;
    else {
      const list: string[] = [];
      for (const a of attrs!.matchAll(ATTRIBUTE)) {
        const value = a[2] ?? a[3] ?? a[4] ?? '';
        list.push(`${a[1]!.toLowerCase()}="${encodeAttribute(decodeEntities(value))}"`);
      }
      list.sort();
      out += `<${tag}${list.map((a) => ' ' + a).join('')}>`;
      if (RAW_TEXT.has(tag)) rawUntil = tag;
    }
    i = lt + whole.length;
  }
  return out;
}
