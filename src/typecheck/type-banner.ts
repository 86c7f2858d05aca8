/**
 * Development: the requested page's type errors as a dismissible banner,
 * computed off the request path.
 *
 * The filter is synchronous and cheap: it injects the diagnostics already
 * known for the page (if any) and schedules a check of that file (debounced)
 * on the process's one TypeScript worker (syntax/ts-worker.ts), where
 * typecheck-job.ts keeps a TypeScript LanguageService; the next load of the
 * page shows the result. Nothing starts before the first request; the
 * worker's heap is bounded; after IDLE_MS without a check the checker is
 * dropped (and the worker stops unless a `.tsx` compile still keeps it). The
 * server asks only for the pages a browser loads (server.ts).
 */
import path from 'node:path';
import { IDLE_MS, releaseTsWorker, runTsJob, tsWorkerGeneration, type TsWorkerError } from '../syntax/ts-worker.js';
import type { ResultFilter } from '../http/handler.js';
import type { Logger } from '../log.js';
import type { TypeDiagnostic } from './typecheck.js';

/** Delay that gathers the requests of a burst into one check per file. */
const DEBOUNCE_MS = 150;
/** The job module the worker loads (this room's code: syntax/ never imports it). */
const JOB = new URL('./typecheck-job.js', import.meta.url).href;

/** The banner's filter (added to HTML results) and its shutdown. */
export function createTypeBanner(
  root: string,
  log: Logger,
  { idleMs = IDLE_MS }: { idleMs?: number } = {},
): {
  filter: ResultFilter;
  /** Drops the checker (and stops the worker if nothing else uses it). */
  close(): Promise<void>;
  /** True while this banner's checker lives on the TypeScript worker (for tests: nothing starts before the first request). */
  running(): boolean;
} {
  const known = new Map<string, TypeDiagnostic[]>();
  const pending = new Set<string>();
  /** The worker (its generation) that holds this banner's checker, if any. */
  let checkerOn: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let idle: NodeJS.Timeout | undefined;
  /** A batch is being checked: the next one waits for its end. */
  let busy = false;
  let disabled = false;

  const holdsChecker = (): boolean => checkerOn !== undefined && checkerOn === tsWorkerGeneration();

  /** Frees the checker's program on the worker, if that worker still runs (never starts one). */
  async function drop(): Promise<void> {
    if (!holdsChecker()) return void (checkerOn = undefined);
    checkerOn = undefined;
    await runTsJob(JOB, { root, drop: true }, { idleMs: 0, hold: false }).catch(() => undefined);
  }

  /** Drops the checker once it has been idle for idleMs (the next flush makes another). */
  function release(): void {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => {
      idle = undefined;
      if (!busy && !pending.size) void drop();
    }, idleMs);
    idle.unref();
  }

  function fail(reason: string): void {
    if (disabled) return;
    disabled = true;
    log.error(`karrigell-ts: the type-error banner is off (the type checker failed): ${reason}`);
    void drop();
  }

  function arm(ms: number): void {
    if (timer || disabled) return;
    timer = setTimeout(flush, ms);
    timer.unref();
  }

  /** Checks the files asked for since the last batch, one batch at a time (one job a file, so that a .tsx compile can go between). */
  function flush(): void {
    timer = undefined;
    if (disabled || busy || !pending.size) return;
    if (idle) clearTimeout(idle);
    idle = undefined;
    busy = true;
    const files = [...pending];
    pending.clear();
    const started = performance.now();
    const checks = files.map((file) =>
      runTsJob<TypeDiagnostic[]>(JOB, { root, file }, { idleMs, hold: false }).then((diagnostics) => {
        known.set(file, diagnostics);
        checkerOn = tsWorkerGeneration();
      }),
    );
    checkerOn = tsWorkerGeneration(); // the checker is being made there
    void Promise.all(checks).then(
      () => {
        busy = false;
        // Files asked for meanwhile: after a pause as long as the check (the worker never takes more than half a core).
        if (pending.size) arm(Math.max(DEBOUNCE_MS, performance.now() - started));
        else release();
      },
      (err: TsWorkerError) => {
        busy = false;
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') fail(`${err.message} for this site (run karrigell-ts check instead)`);
        // The worker stopped under the check for another reason: the next page load asks again.
        else if (err.workerStopped) checkerOn = undefined;
        else fail(err.message);
      },
    );
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
    running: () => !disabled && holdsChecker(),
    async close() {
      disabled = true;
      if (timer) clearTimeout(timer);
      if (idle) clearTimeout(idle);
      timer = idle = undefined;
      // Stopped at once, a check under way included (closing never waits for one); a .tsx
      // compile (of another server in this process) keeps it: then the checker is dropped after its jobs.
      await releaseTsWorker({ background: true });
      void drop();
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
