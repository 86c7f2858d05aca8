/**
 * Development: the requested page's type errors as a dismissible banner,
 * computed off the request path.
 *
 * The filter is synchronous and cheap: it injects the diagnostics already
 * known for the page (if any) and schedules a check of that file (debounced)
 * in a worker thread that keeps a TypeScript LanguageService; the next load
 * of the page shows the result. Nothing starts before the first request; the
 * worker's heap is bounded, and it stops after IDLE_MS without work. The
 * server asks only for the pages a browser loads (server.ts).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResultFilter } from '../http/handler.js';
import type { Logger } from '../log.js';
import type { TypeDiagnostic } from './typecheck.js';

/** Delay that gathers the requests of a burst into one check per file. */
const DEBOUNCE_MS = 150;
/** A checker idle this long is stopped (its TypeScript program is 100–200 MB); the next page load starts another. */
export const IDLE_MS = 30_000;
/** The checker's heap bound: a site too large for it turns the banner off with a message rather than growing the server without end. */
const HEAP_MB = 384;
/**
 * Its young generation: each check leaves a program's worth of garbage, and
 * V8 would let a worker's young generation grow as large as the main
 * thread's (128 MB on Node 24: +120 MB of RSS over 300 edits).
 */
const YOUNG_MB = 16;

/** The banner's filter (added to HTML results) and its shutdown. */
export function createTypeBanner(
  root: string,
  log: Logger,
  { idleMs = IDLE_MS }: { idleMs?: number } = {},
): {
  filter: ResultFilter;
  /** Terminates the worker thread. */
  close(): Promise<void>;
  /** True while the checker's worker thread runs (for tests: nothing starts before the first request). */
  running(): boolean;
} {
  const known = new Map<string, TypeDiagnostic[]>();
  const pending = new Set<string>();
  let worker: Worker | undefined;
  let timer: NodeJS.Timeout | undefined;
  let idle: NodeJS.Timeout | undefined;
  /** A batch is being checked: the next one waits for its end. */
  let busy = false;
  let disabled = false;

  function start(): Worker {
    const w = new Worker(new URL('./typecheck-worker.js', import.meta.url), { workerData: { root }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, maxYoungGenerationSizeMb: YOUNG_MB } });
    w.unref();
    w.on('message', (msg: { file?: string; diagnostics?: TypeDiagnostic[]; error?: string; done?: boolean; ms?: number }) => {
      if (msg.error !== undefined) return fail(msg.error);
      if (msg.file) known.set(msg.file, msg.diagnostics ?? []);
      if (msg.done) {
        busy = false;
        // Files asked for meanwhile: after a pause as long as the check (the worker never takes more than half a core).
        if (pending.size) arm(Math.max(DEBOUNCE_MS, msg.ms ?? 0));
        else release();
      }
    });
    w.on('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `it needs more than its ${HEAP_MB} MB heap for this site (run karrigell-ts check instead)` : (err.stack ?? err.message)),
    );
    w.on('exit', () => {
      if (worker === w) {
        worker = undefined;
        busy = false;
      }
    });
    return w;
  }

  /** Stops the worker once it has been idle for IDLE_MS (restarted from the next flush). */
  function release(): void {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => {
      idle = undefined;
      if (busy || pending.size || !worker) return;
      const w = worker;
      worker = undefined;
      void w.terminate();
    }, idleMs);
    idle.unref();
  }

  function fail(reason: string): void {
    if (disabled) return;
    disabled = true;
    log.error(`karrigell-ts: the type-error banner is off (the type checker failed): ${reason}`);
    void worker?.terminate();
    worker = undefined;
  }

  function arm(ms: number): void {
    if (timer || disabled) return;
    timer = setTimeout(flush, ms);
    timer.unref();
  }

  /** Sends the files asked for since the last batch, one batch at a time. */
  function flush(): void {
    timer = undefined;
    if (disabled || busy || !pending.size) return;
    worker ??= start();
    if (idle) clearTimeout(idle);
    idle = undefined;
    busy = true;
    worker.postMessage({ files: [...pending] });
    pending.clear();
  }

  const filter: ResultFilter = (result, ctx) => {
    if (disabled || typeof result.body !== 'string') return;
    const diagnostics = known.get(ctx.file);
    if (diagnostics?.length) result.body = injectBanner(result.body, renderBanner(diagnostics, root));
    pending.add(ctx.file);
    if (!busy) arm(DEBOUNCE_MS);
  };

  return {
    filter,
    running: () => worker !== undefined,
    async close() {
      disabled = true;
      if (timer) clearTimeout(timer);
      if (idle) clearTimeout(idle);
      timer = idle = undefined;
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The banner's HTML: `file:line:col message` for each error (file relative to ROOT), and a close button. */
export function renderBanner(diagnostics: TypeDiagnostic[], root: string): string {
  const items = diagnostics
    .map((d) => {
      const where = d.file ? `${path.relative(root, d.file).split(path.sep).join('/')}:${d.line}:${d.column}` : 'tsconfig';
      return `<li style="margin:2px 0;white-space:pre-wrap"><b>${escape(where)}</b> ${escape(d.message)}${d.code ? ` <span style="opacity:.6">TS${d.code}</span>` : ''}</li>`;
    })
    .join('');
  const count = `${diagnostics.length} type error${diagnostics.length > 1 ? 's' : ''}`;
  return (
    `<div id="kts-type-errors" role="alert" style="position:fixed;top:0;left:0;right:0;z-index:2147483647;max-height:40vh;overflow:auto;` +
    `box-sizing:border-box;margin:0;padding:8px 44px 8px 14px;background:#fff5e6;color:#4a2500;border-bottom:2px solid #e8890c;` +
    `box-shadow:0 2px 8px rgba(0,0,0,.18);font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;text-align:left">` +
    `<button type="button" aria-label="Dismiss" title="Dismiss" onclick="this.parentNode.remove()" style="position:absolute;top:6px;right:10px;` +
    `border:0;background:none;color:inherit;font:20px/1 sans-serif;cursor:pointer">×</button>` +
    `<div style="font-weight:bold;margin-bottom:4px">${count} (karrigell-ts check; the page still runs)</div>` +
    `<ul style="margin:0;padding-left:18px">${items}</ul></div>`
  );
}

/** Puts the banner at the end of the body (it is fixed at the top of the window). */
function injectBanner(body: string, banner: string): string {
  const end = body.lastIndexOf('</body>');
  return end >= 0 ? body.slice(0, end) + banner + body.slice(end) : body + banner;
}
