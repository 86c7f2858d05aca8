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
    const [prefix, suffix] = WRAPPERS[seg.kind];
    const separator = statementSeparator();
    padTo(target, separator.length + prefix.length);
    write(separator + prefix + expr);
    endLineComment(expr);
    write(suffix);
    lastCode = undefined;
  }
  return out;
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
