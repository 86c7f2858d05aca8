/**
 * `karrigell-ts check [ROOT] [--watch]`: type-checks every script of the site
 * (SPEC §1, §4), `.tsp` pages included, against the declarations of the names
 * in a script's scope.
 *
 * Errors are printed on stdout, one per line, as `FILE:LINE:COL error TSnnnn: message`,
 * FILE relative to the current directory (as tsc does, so that terminals and
 * editors open it); a message of several lines continues on indented lines.
 * Then one summary line. Exit status 1 when there are errors, 0 when clean.
 * With `--watch`, checks again after every change and never exits.
 */
import path from 'node:path';
import type { SiteChecker, TypeDiagnostic } from '../typecheck/typecheck.js';
import { isSkippedFolder, siteFolder } from '../site.js';

/** Type-checks ROOT; resolves to the exit status (0 clean, 1 errors). */
export async function runCheck(root = 'www', watch = false): Promise<number> {
  const site = siteFolder(root);
  if ('problem' in site) return fatal(site.problem);
  const real = site.real;
  let checker: SiteChecker;
  try {
    const { createSiteChecker } = await import('../typecheck/typecheck.js');
    checker = createSiteChecker(real);
  } catch (err) {
    return fatal(`cannot load the TypeScript compiler: ${(err as Error).message}`);
  }
  const status = runOnce(checker, root);
  if (!watch) return status;
  return watchSite(checker, root, real);
}

function runOnce(checker: SiteChecker, root: string): number {
  const started = performance.now();
  const { diagnostics, files } = checker.check();
  process.stdout.write(formatDiagnostics(diagnostics));
  const ms = Math.round(performance.now() - started);
  process.stdout.write(summary(diagnostics, files.length, root, ms) + '\n');
  return diagnostics.length ? 1 : 0;
}

/** `FILE:LINE:COL error TSnnnn: message` lines, FILE relative to the current directory. */
export function formatDiagnostics(diagnostics: TypeDiagnostic[], cwd = process.cwd()): string {
  const sorted = [...diagnostics].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  let out = '';
  for (const d of sorted) {
    const where = d.file ? `${toSlash(path.relative(cwd, d.file))}:${d.line}:${d.column}` : 'tsconfig';
    const [first, ...rest] = d.message.split('\n');
    out += `${where} error${d.code ? ` TS${d.code}` : ''}: ${first}\n`;
    for (const line of rest) out += `    ${line.trimStart()}\n`;
  }
  return out;
}

function summary(diagnostics: TypeDiagnostic[], scripts: number, root: string, ms: number): string {
  const s = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (!diagnostics.length) return `karrigell-ts check: ${root}: no type errors in ${s(scripts, 'script')} (${ms} ms)`;
  const files = new Set(diagnostics.map((d) => d.file)).size;
  return `karrigell-ts check: ${root}: ${s(diagnostics.length, 'error')} in ${s(files, 'file')} (${s(scripts, 'script')} checked, ${ms} ms)`;
}

async function watchSite(checker: SiteChecker, root: string, real: string): Promise<number> {
  const { watch } = await import('chokidar');
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(real, {
    ignoreInitial: true,
    ignored: (file: string) => {
      const rel = path.relative(real, file);
      return rel.split(path.sep).some((part) => part !== '.' && part !== '..' && part !== '' && isSkippedFolder(part));
    },
  });
  const again = (file: string): void => {
    if (!/\.(?:tsx?|tsp|json)$/.test(file)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      process.stdout.write(`\n[${new Date().toLocaleTimeString('en-GB')}] ${toSlash(path.relative(real, file))} changed\n`);
      runOnce(checker, root);
    }, 120);
  };
  watcher.on('add', again).on('change', again).on('unlink', again);
  process.stdout.write(`karrigell-ts check: watching ${root} for changes (Ctrl+C to stop)\n`);
  return new Promise<number>(() => {});
}

function toSlash(p: string): string {
  return p.split(path.sep).join('/');
}

function fatal(message: string): number {
  process.stderr.write(`karrigell-ts: check: ${message}\n`);
  return 1;
}
