/**
 * `.tsp` pages: TypeScript inside HTML, compiled to TypeScript source.
 *
 * Tags (as in EJS, `%>` always ends a tag, even inside a string of the code):
 *   `<% code %>`   statements; control flow may span tags
 *   `<%= expr %>`  value, escaped
 *   `<%- expr %>`  value, inserted raw
 * Output tags write what EJS writes (`false` as "false", arrays joined with
 * commas, null/undefined as nothing, one trailing `;` allowed, an empty tag
 * nothing): see tspEscaped/tspRaw in html.ts.
 *   `<%_ expr %>`  `_(expr)` (translation), escaped
 *   `<%# text %>`  comment, produces nothing
 *   `<%%`          a literal `<%` in the HTML
 * A `<% %>` or `<%# %>` tag alone on its line (only blanks around it) does
 * not leave that line's blanks and newline in the output.
 *
 * The generated code writes through `__kts_out(text)` and `__kts_esc(value)`,
 * provided by the page's scope. Generated line N is `.tsp` line N, and code
 * keeps its column when there is room before it, so compiler errors and stack
 * traces point into the `.tsp` file.
 */

/** Error thrown for a malformed `.tsp` file (1-based position). */
export interface TspSyntaxError extends Error {
  line: number;
  column: number;
  file: string;
}

type TagKind = 'code' | 'expr' | 'raw' | 'trans' | 'comment';

interface TextSegment {
  kind: 'text';
  /** Source range (used to count newlines). */
  start: number;
  end: number;
  /** What the segment outputs. */
  text: string;
}

interface TagSegment {
  kind: TagKind;
  open: number;
  codeStart: number;
  codeEnd: number;
}

type Segment = TextSegment | TagSegment;

const MARKERS: Record<string, TagKind> = { '=': 'expr', '-': 'raw', _: 'trans', '#': 'comment' };

const WRAPPERS: Record<'expr' | 'raw' | 'trans', [string, string]> = {
  expr: ['__kts_out(__kts_esc((', ')));'],
  // A function, not `String((expr) ?? "")`: `??` after a value that cannot be null is a type error (TS2869).
  raw: ['__kts_out(__kts_raw((', ')));'],
  trans: ['__kts_out(__kts_esc(_((', '))));'],
};

/** Compiles a `.tsp` source into TypeScript with the same line numbering. */
export function tspToTs(source: string, fileName: string): string {
  const segments = parse(source, fileName);
  trimStandaloneTags(source, segments);
  return generate(source, segments);
}

function parse(source: string, fileName: string): Segment[] {
  const segments: Segment[] = [];
  let i = source.startsWith('\uFEFF') ? 1 : 0;
  let textStart = 0;
  let text = '';
  for (;;) {
    const open = source.indexOf('<%', i);
    if (open < 0) {
      segments.push({ kind: 'text', start: textStart, end: source.length, text: text + source.slice(i) });
      return segments;
    }
    if (source[open + 2] === '%') {
      text += source.slice(i, open + 2);
      i = open + 3;
      continue;
    }
    segments.push({ kind: 'text', start: textStart, end: open, text: text + source.slice(i, open) });
    text = '';
    const marked = MARKERS[source[open + 2] ?? ''];
    const codeStart = open + (marked ? 3 : 2);
    const close = source.indexOf('%>', codeStart);
    if (close < 0) throw unclosedTag(source, open, fileName);
    segments.push({ kind: marked ?? 'code', open, codeStart, codeEnd: close });
    i = textStart = close + 2;
  }
}

function unclosedTag(source: string, pos: number, fileName: string): TspSyntaxError {
  const { line, column } = position(source, pos);
  const error = new Error(`unclosed <% tag at ${line}:${column}`) as TspSyntaxError;
  error.line = line;
  error.column = column;
  error.file = fileName;
  return error;
}

/** 1-based line and column of an offset. */
function position(source: string, pos: number): { line: number; column: number } {
  let line = 1;
  for (let nl = source.indexOf('\n'); nl >= 0 && nl < pos; nl = source.indexOf('\n', nl + 1)) line++;
  return { line, column: pos - source.lastIndexOf('\n', pos - 1) };
}

/** Drops the blanks and newline around `<% %>` tags that stand alone on their line. */
function trimStandaloneTags(source: string, segments: Segment[]): void {
  for (let k = 1; k < segments.length - 1; k++) {
    const tag = segments[k]!;
    if (tag.kind !== 'code' && tag.kind !== 'comment') continue;
    const lineStart = source.lastIndexOf('\n', tag.open - 1) + 1;
    const after = tag.codeEnd + 2;
    const nl = source.indexOf('\n', after);
    const lineEnd = nl < 0 ? source.length : nl;
    if (!/^[ \t]*$/.test(source.slice(lineStart, tag.open))) continue;
    if (!/^[ \t]*\r?$/.test(source.slice(after, lineEnd))) continue;
    const before = segments[k - 1] as TextSegment;
    const next = segments[k + 1] as TextSegment;
    before.text = before.text.replace(/[ \t]*$/, '');
    next.text = next.text.replace(/^[ \t]*\r?\n?/, '');
  }
}

function generate(source: string, segments: Segment[]): string {
  const contexts = htmlContexts(segments);
  let out = '';
  let column = 0;
  // Newlines written ahead of the source (to end a `//` comment) that later
  // literal newlines make up for.
  let ahead = 0;
  // Last character of the previous `<% code %>` when it was the last thing
  // written, to know whether a `;` must separate what follows.
  let lastCode: string | undefined;

  const write = (s: string): void => {
    const nl = s.lastIndexOf('\n');
    column = nl < 0 ? column + s.length : s.length - nl - 1;
    out += s;
  };
  const newlines = (count: number): void => {
    const n = count - ahead;
    ahead = Math.max(0, -n);
    if (n > 0) write('\n'.repeat(n));
  };
  const padTo = (target: number, width: number): void => {
    if (column + width < target) write(' '.repeat(target - column - width));
  };
  const endLineComment = (code: string): void => {
    if (!endsInLineComment(code)) return;
    write('\n');
    ahead++;
  };
  const statementSeparator = (): string =>
    lastCode !== undefined && lastCode !== ';' && lastCode !== '{' ? ';' : '';

  for (const seg of segments) {
    if (seg.kind === 'text') {
      if (seg.text !== '') {
        write(`${statementSeparator()}__kts_out(${jsString(seg.text)});`);
        lastCode = undefined;
      }
      newlines(countNewlines(source, seg.start, seg.end));
      continue;
    }
    const code = source.slice(seg.codeStart, seg.codeEnd);
    if (seg.kind === 'comment') {
      newlines(countNewlines(source, seg.codeStart, seg.codeEnd));
      continue;
    }
    const target = seg.codeStart - source.lastIndexOf('\n', seg.codeStart - 1) - 1;
    if (seg.kind === 'code') {
      const trimmed = code.trim();
      if (trimmed === '') {
        write(code);
        continue;
      }
      // After a `}` the code may go on (`} else {`), or the `}` closed an
      // object literal (`const o = { a: 1 }`) and a new statement starts.
      const continues = lastCode === '}' && /^(?:else|catch|finally)\b|^[),.\]?:]/.test(trimmed);
      const separator = lastCode !== undefined && !';{'.includes(lastCode) && !continues ? ';' : '';
      padTo(target, separator.length);
      write(separator + code);
      endLineComment(code);
      lastCode = trimmed[trimmed.length - 1];
      continue;
    }
    // EJS allows one `;` at the end of an output tag (`<%= name; %>`); a blank keeps the columns.
    const expr = code.replace(/;(\s*)$/, ' $1');
    if (expr.trim() === '') {
      // An empty output tag writes nothing (EJS: undefined).
      write(expr);
      continue;
    }
    const where = contexts.get(seg);
    const [prefix, suffix] = where === undefined || seg.kind === 'raw' ? WRAPPERS[seg.kind] : inTagWrapper(seg.kind, where);
    const separator = statementSeparator();
    padTo(target, separator.length + prefix.length);
    write(separator + prefix + expr);
    endLineComment(expr);
    write(suffix);
    lastCode = undefined;
  }
  return out;
}

/** The wrapper of an escaped output tag that stands inside a start tag (see tspInTag in html.ts). */
function inTagWrapper(kind: 'expr' | 'trans', where: string): [string, string] {
  return kind === 'expr' ? ['__kts_out(__kts_tag((', `), ${jsString(where)}));`] : ['__kts_out(__kts_tag(_((', `)), ${jsString(where)}));`];
}

type HtmlState =
  | { s: 'data' | 'comment' | 'endtag' }
  | { s: 'tag'; tag: string }
  | { s: 'name' | 'afterName' | 'beforeValue'; tag: string; name: string }
  | { s: 'value'; tag: string; name: string; quote: string; start: boolean }
  | { s: 'rawtext'; tag: string };

const RAW_TEXT_ELEMENTS = new Set(['script', 'style', 'textarea', 'title']);

/**
 * Where each output tag stands in the HTML of the page, read from the static
 * text around it in source order (a light tokenizer, enough for the places
 * that need another escape than text: inside a start tag). The value is the
 * `where` of tspInTag: `n` (attribute name position), or `q`/`m`/`u`/`w` and
 * the attribute name; output tags in text get none.
 */
function htmlContexts(segments: Segment[]): Map<Segment, string> {
  const contexts = new Map<Segment, string>();
  let st: HtmlState = { s: 'data' };
  const endOfStartTag = (tag: string): HtmlState => (RAW_TEXT_ELEMENTS.has(tag) ? { s: 'rawtext', tag } : { s: 'data' });
  for (const seg of segments) {
    if (seg.kind === 'code' || seg.kind === 'comment') continue;
    if (seg.kind !== 'text') {
      if (st.s === 'tag' || st.s === 'name' || st.s === 'afterName') contexts.set(seg, 'n');
      else if (st.s === 'beforeValue') {
        contexts.set(seg, `u:${st.name}`);
        st = { s: 'value', tag: st.tag, name: st.name, quote: '', start: false };
      } else if (st.s === 'value') {
        contexts.set(seg, `${st.quote ? (st.start ? 'q' : 'm') : st.start ? 'u' : 'w'}:${st.name}`);
        st.start = false;
      }
      continue;
    }
    const t = seg.text;
    for (let i = 0; i < t.length; i++) {
      const c = t[i]!;
      const blank = c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
      switch (st.s) {
        case 'data':
          if (c !== '<') break;
          if (t.startsWith('<!--', i)) {
            st = { s: 'comment' };
            i += 3;
          } else if (t[i + 1] === '/') st = { s: 'endtag' };
          else {
            const m = /^[A-Za-z][^\s/>]*/.exec(t.slice(i + 1));
            if (m) {
              st = { s: 'tag', tag: m[0].toLowerCase() };
              i += m[0].length;
            }
          }
          break;
        case 'comment':
          if (t.startsWith('-->', i)) {
            st = { s: 'data' };
            i += 2;
          }
          break;
        case 'endtag':
          if (c === '>') st = { s: 'data' };
          break;
        case 'rawtext':
          if (c === '<' && t.slice(i + 2, i + 2 + st.tag.length).toLowerCase() === st.tag && t[i + 1] === '/') st = { s: 'endtag' };
          break;
        case 'tag':
          if (c === '>') st = endOfStartTag(st.tag);
          else if (!blank && c !== '/') st = { s: 'name', tag: st.tag, name: c };
          break;
        case 'name':
          if (c === '>') st = endOfStartTag(st.tag);
          else if (c === '=') st = { s: 'beforeValue', tag: st.tag, name: st.name };
          else if (blank) st = { s: 'afterName', tag: st.tag, name: st.name };
          else if (c === '/') st = { s: 'tag', tag: st.tag };
          else st.name += c;
          break;
        case 'afterName':
          if (c === '>') st = endOfStartTag(st.tag);
          else if (c === '=') st = { s: 'beforeValue', tag: st.tag, name: st.name };
          else if (!blank) st = c === '/' ? { s: 'tag', tag: st.tag } : { s: 'name', tag: st.tag, name: c };
          break;
        case 'beforeValue':
          if (c === '>') st = endOfStartTag(st.tag);
          else if (c === '"' || c === "'") st = { s: 'value', tag: st.tag, name: st.name, quote: c, start: true };
          else if (!blank) st = { s: 'value', tag: st.tag, name: st.name, quote: '', start: false };
          break;
        case 'value':
          if (st.quote) {
            if (c === st.quote) st = { s: 'tag', tag: st.tag };
            else if (c > ' ') st.start = false;
          } else if (blank) st = { s: 'tag', tag: st.tag };
          else if (c === '>') st = endOfStartTag(st.tag);
          else st.start = false;
          break;
      }
    }
  }
  return contexts;
}

function countNewlines(source: string, start: number, end: number): number {
  let count = 0;
  for (let nl = source.indexOf('\n', start); nl >= 0 && nl < end; nl = source.indexOf('\n', nl + 1)) count++;
  return count;
}

/** A JSON string literal that stays on one line for every JS engine. */
function jsString(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const REGEX_MAY_FOLLOW = '(,=:[!&|?{};+-*%<>~^';

/**
 * True when the code's last line ends inside a `//` comment, so that what is
 * written after it on the same line would be commented out. A light scanner:
 * strings, template literals, block comments and (heuristically) regexes.
 */
function endsInLineComment(code: string): boolean {
  let prev = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === '/' && next === '/') {
      const nl = code.indexOf('\n', i);
      if (nl < 0) return true;
      i = nl;
    } else if (c === '/' && next === '*') {
      const end = code.indexOf('*/', i + 2);
      if (end < 0) return false;
      i = end + 1;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipQuoted(code, i, c);
      prev = c;
    } else if (c === '/' && (prev === '' || REGEX_MAY_FOLLOW.includes(prev))) {
      i = skipRegex(code, i);
      prev = '/';
    } else if (!/\s/.test(c)) {
      prev = c;
    }
  }
  return false;
}

function skipQuoted(code: string, start: number, quote: string): number {
  for (let i = start + 1; i < code.length; i++) {
    const c = code[i];
    if (c === '\\') i++;
    else if (c === quote || (c === '\n' && quote !== '`')) return i;
  }
  return code.length;
}

function skipRegex(code: string, start: number): number {
  let inClass = false;
  for (let i = start + 1; i < code.length; i++) {
    const c = code[i];
    if (c === '\\') i++;
    else if (c === '\n') return i;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) return i;
  }
  return code.length;
}
