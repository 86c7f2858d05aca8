/** Script failures: mapping stacks back to TypeScript and the 500 page (SPEC §3). */
import fs from 'node:fs';
import path from 'node:path';
import { SourceMap } from 'node:module';
import { escapeHtml } from '../html.js';
import { statusText } from './signals.js';
import { CompileError, reportedLineOffset, type CompiledUnit } from './compile.js';
import { PACKAGE_DIR } from '../site.js';

/** Where an error happened, in the TypeScript source. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface ErrorReport {
  title: string;
  message: string;
  location?: SourceLocation;
  /** The stack with every frame of a compiled file mapped to TypeScript, paths relative to ROOT. */
  stack: string;
  /** Lines around the location, the failing one marked with `>`. */
  frame?: string;
  /** Scripts that included the failing one, outermost first. */
  includes: string[];
}

const maps = new WeakMap<CompiledUnit, SourceMap>();

function sourceMapOf(unit: CompiledUnit): SourceMap {
  let map = maps.get(unit);
  if (!map) maps.set(unit, (map = new SourceMap(unit.map as never)));
  return map;
}

/** Maps a position of a compiled file as a stack trace reports it (1-based) to its TypeScript source. */
export function mapPosition(unit: CompiledUnit, reportedLine: number, column: number): { line: number; column: number } | undefined {
  const line = reportedLine - reportedLineOffset();
  const col0 = column - 1 - (line === 1 ? unit.lineOneOffset : 0);
  const entry = sourceMapOf(unit).findEntry(line - 1, Math.max(0, col0)) as { originalLine?: number; originalColumn?: number };
  if (entry?.originalLine === undefined) return undefined;
  return { line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
}

const FRAME_RE = /^(\s*at (?:.*? \()?)(.+?):(\d+):(\d+)(\)?)$/;

/** Rewrites a stack: frames of compiled files point at TypeScript lines; the first such frame is returned. */
export function mapStack(stack: string, root: string, unitOf: (file: string) => CompiledUnit | undefined): { stack: string; first?: SourceLocation } {
  let first: SourceLocation | undefined;
  // The server's own code (not the demo site that lives in the package folder too).
  const ours = [path.join(PACKAGE_DIR, 'dist') + path.sep, path.join(PACKAGE_DIR, 'src') + path.sep];
  const isOurs = (file: string): boolean => ours.some((dir) => file.startsWith(dir) || file.startsWith('file://' + dir));
  const lines = stack.split('\n').flatMap((text) => {
    const m = FRAME_RE.exec(text);
    if (!m) return [text];
    // Frames of the server itself and of Node's internals say nothing to the user.
    if (m[2]!.startsWith('node:') || isOurs(m[2]!)) return [];
    const unit = unitOf(m[2]!);
    if (!unit) return [text];
    // The wrapper that runs a page's top-level code is ours too.
    if (/^\s*at (?:async )?Object\.run \(/.test(text)) return [];
    const pos = mapPosition(unit, Number(m[3]), Number(m[4]));
    if (!pos) return [text];
    first ??= { file: unit.file, ...pos };
    return [`${m[1]}${relative(root, unit.file)}:${pos.line}:${pos.column}${m[5]}`];
  });
  return { stack: lines.join('\n'), first };
}

/** `file` relative to ROOT when inside it. */
export function relative(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

/** A few lines of `file` around `line`, the line itself marked and a caret under `column`. */
export function codeFrame(file: string, line: number, column: number, context = 3): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/);
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, line + context);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const mark = n === line ? '>' : ' ';
    out.push(`${mark} ${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}

/** Builds the report of a script failure. */
export function reportError(err: unknown, root: string, unitOf: (file: string) => CompiledUnit | undefined, includes: string[] = []): ErrorReport {
  if (err instanceof CompileError) {
    const location = { file: err.file, line: err.line, column: err.column };
    const all = err.errors.length > 1 ? err.errors.map((e) => `${relative(root, e.file)}:${e.line}:${e.column}: ${e.message}`).join('\n') : '';
    return {
      title: 'Compile error',
      message: err.message,
      location,
      stack: all,
      frame: codeFrame(err.file, err.line, err.column),
      includes,
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const { stack, first } = mapStack(e.stack ?? String(e), root, unitOf);
  return {
    title: e.name || 'Error',
    message: e.message,
    location: first,
    stack,
    frame: first ? codeFrame(first.file, first.line, first.column) : undefined,
    includes,
  };
}

/** One-line-per-fact text of a report, for stderr. */
export function reportText(report: ErrorReport, root: string, url: string, id?: string): string {
  const where = report.location ? `${relative(root, report.location.file)}:${report.location.line}:${report.location.column}` : '';
  return [
    `${id ? `[${id}] ` : ''}${report.title} in ${url}${where ? ` at ${where}` : ''}: ${report.message}`,
    report.includes.length ? `  included from: ${report.includes.join(' → ')}` : '',
    report.frame ?? '',
    report.stack,
  ]
    .filter(Boolean)
    .join('\n');
}

// `.sheet` is the live-reload overlay's wrapper of this page (shown in a shadow root, where `body` matches nothing).
const PAGE_STYLE =
  'body,.sheet{font:15px/1.5 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}' +
  'header{background:#b3261e;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}' +
  'main{padding:16px 24px}pre{background:#fff;border:1px solid #ddd;padding:12px;overflow:auto;font:13px/1.45 ui-monospace,monospace}' +
  '.loc{font:14px ui-monospace,monospace;color:#b3261e}.muted{color:#666}';

/** The development 500 page: everything escaped. */
export function renderDevErrorPage(report: ErrorReport, root: string, url: string): string {
  const where = report.location ? `${relative(root, report.location.file)}:${report.location.line}:${report.location.column}` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title><style>${PAGE_STYLE}</style></head><body data-karrigell-error>
<header><h1>${escapeHtml(report.title)}: ${escapeHtml(report.message)}</h1></header><main>
<p class="muted">While serving <code>${escapeHtml(url)}</code></p>
${where ? `<p class="loc">${escapeHtml(where)}</p>` : ''}
${report.frame ? `<pre>${escapeHtml(report.frame)}</pre>` : ''}
${report.includes.length ? `<p>Included from: <code>${report.includes.map(escapeHtml).join(' → ')}</code></p>` : ''}
${report.stack ? `<h2>Stack</h2><pre>${escapeHtml(report.stack)}</pre>` : ''}
</main></body></html>`;
}

/** How an error answer is written: a page for browsers, the message for other clients, JSON for a service's. */
export type ErrorFormat = 'html' | 'text' | 'json';

/**
 * The format of an error answer, the same for every part (SPEC §4, §9): a
 * request whose `Accept` lists text/html (a browser navigation) gets an HTML
 * page; any other client gets the message as the body (`HTTP_ERROR`'s
 * contract), as JSON `{"error", "status"}` when it called a service.
 */
export function errorFormat(accept: string | undefined, service: boolean): ErrorFormat {
  if (accept !== undefined && /(?:^|[,\s])text\/html(?:[;,\s]|$)/i.test(accept)) return 'html';
  return service ? 'json' : 'text';
}

/** The body of an error answer in a format. */
export function errorAnswer(status: number, message: string, format: ErrorFormat): { type: string; body: string } {
  if (format === 'json') return { type: 'application/json; charset=utf-8', body: JSON.stringify({ error: message, status }) };
  if (format === 'text') return { type: 'text/plain; charset=utf-8', body: message + '\n' };
  return { type: 'text/html; charset=utf-8', body: renderPlainPage(status, statusText(status), message === statusText(status) ? '' : message) };
}

/** A plain error page (production, and the server's own 4xx answers). */
export function renderPlainPage(status: number, title: string, detail = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head><body><header><h1>${status} ${escapeHtml(title)}</h1></header><main>${detail ? `<p>${escapeHtml(detail)}</p>` : ''}</main></body></html>`;
}
