/**
 * The file watcher of live editing (SPEC §7): chokidar over ROOT, made exact
 * for the ways editors save.
 *
 * chokidar reports a `change` at most once per 50 ms per file (a leading-edge
 * throttle with no trailing event) and may look at a file between the
 * truncation and the write of an in-place save. So every file reported is
 * kept under watch for a short while with the signature (a hash of its
 * content) it had when reported: a raw file-system event on it, or a last
 * look 60 ms after the latest report, compares the signature again and
 * reports the file once more if it differs. The last save of a burst is
 * therefore always reported after it was written, whatever chokidar dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from './log.js';

export type WatchKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

export interface FileEvent {
  kind: WatchKind;
  /** Absolute path. */
  file: string;
  /**
   * Nothing visible changed since the last report, but the file was written
   * meanwhile (it may have held other content for a moment): forget what was
   * compiled from it, no need to tell browsers.
   */
  quiet?: boolean;
}

export interface SiteWatcher {
  /** Also watches a file outside ROOT (a module imported from `../lib`). */
  add(file: string): void;
  close(): Promise<void>;
}

/** Folders never watched (anywhere below ROOT). */
const IGNORED_DIRS = new Set(['node_modules', '.git']);
/** Files up to this size are compared by content; bigger ones by size, mtime and inode. */
const HASH_MAX = 2 * 1024 * 1024;
/** A raw event on a recently reported file: look again this soon. */
const QUICK_MS = 3;
/** The last look at a reported file, after chokidar's own 50 ms throttle has ended. */
const SETTLE_MS = 60;
const READY_MAX_MS = 10_000;

interface Recent {
  sig: string;
  /** A raw event arrived after the last report. */
  touched: boolean;
  quick?: NodeJS.Timeout;
  settle?: NodeJS.Timeout;
}

const MISSING = '-';

/** What a file holds now: `-` when it does not exist. Never throws. */
export function signature(file: string): string {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return MISSING;
  }
  if (!st) return MISSING;
  if (st.isDirectory()) return 'dir';
  // Never read a FIFO or a device (it could block); big files are compared by their metadata.
  if (!st.isFile() || st.size > HASH_MAX) return `s:${st.mode}:${st.size}:${st.mtimeMs}:${st.ino}`;
  try {
    return 'h:' + createHash('sha1').update(fs.readFileSync(file)).digest('base64');
  } catch {
    return fs.existsSync(file) ? `s:${st.mode}:${st.size}:${st.mtimeMs}:${st.ino}` : MISSING;
  }
}

/**
 * Watches `root` (node_modules and .git excepted); calls `onEvent`
 * synchronously for each change. Resolves once the initial scan is done.
 * `onEvent` errors are caught and logged: the watcher never throws.
 */
export async function watchSite(root: string, onEvent: (event: FileEvent) => void, log: Logger): Promise<SiteWatcher> {
  const recent = new Map<string, Recent>();
  let closed = false;

  const ignored = (p: string): boolean => {
    const rel = path.relative(root, p);
    if (!rel || rel.startsWith('..')) return false;
    for (const seg of rel.split(path.sep)) if (IGNORED_DIRS.has(seg)) return true;
    return false;
  };

  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    // We do our own handling of delete-then-recreate; chokidar's would delay every deletion by 100 ms.
    atomic: false,
    ignored,
    persistent: true,
  });

  function deliver(event: FileEvent): void {
    try {
      onEvent(event);
    } catch (err) {
      log.error(`karrigell-ts: live reload: handling ${event.kind} of ${event.file} failed: ${(err as Error)?.stack ?? String(err)}`);
    }
  }

  /** Reports `file` as it is now; `kind` is chokidar's word for it, corrected by what is on disk. */
  function report(file: string, kind: 'add' | 'change' | 'unlink'): void {
    const sig = signature(file);
    let r = recent.get(file);
    if (r && r.sig === sig) {
      // Already reported in this state (chokidar catching up with what a look of ours saw).
      settleLater(file, r);
      return;
    }
    const was = r?.sig;
    if (sig === MISSING) kind = 'unlink';
    else if (kind === 'unlink' || was === MISSING) kind = 'add';
    if (sig === 'dir') return;
    if (!r) recent.set(file, (r = { sig, touched: false }));
    r.sig = sig;
    r.touched = false;
    deliver({ kind, file });
    settleLater(file, r);
  }

  function settleLater(file: string, r: Recent): void {
    clearTimeout(r.settle);
    r.settle = setTimeout(() => look(file, true), SETTLE_MS).unref();
  }

  /** Compares `file` with what was last reported; `last` ends its watch if nothing moved. */
  function look(file: string, last: boolean): void {
    if (closed) return;
    const r = recent.get(file);
    if (!r) return;
    if (last) r.settle = undefined;
    else r.quick = undefined;
    try {
      const sig = signature(file);
      if (sig !== r.sig) {
        report(file, r.sig === MISSING ? 'add' : 'change');
        return;
      }
      if (r.touched) {
        r.touched = false;
        deliver({ kind: sig === MISSING ? 'unlink' : 'change', file, quiet: true });
      }
      if (last && !r.quick) recent.delete(file);
    } catch (err) {
      log.error(`karrigell-ts: live reload: checking ${file} failed: ${String(err)}`);
    }
  }

  function touched(file: string): void {
    const r = recent.get(file);
    if (!r) return;
    r.touched = true;
    r.quick ??= setTimeout(() => look(file, false), QUICK_MS).unref();
  }

  const guard =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      if (closed) return;
      try {
        fn(...args);
      } catch (err) {
        log.error(`karrigell-ts: live reload: ${String(err)}`);
      }
    };

  watcher.on('add', guard((file: string) => report(file, 'add')));
  watcher.on('change', guard((file: string) => report(file, 'change')));
  watcher.on('unlink', guard((file: string) => report(file, 'unlink')));
  watcher.on('addDir', guard((dir: string) => deliver({ kind: 'addDir', file: dir })));
  watcher.on('unlinkDir', guard((dir: string) => deliver({ kind: 'unlinkDir', file: dir })));
  watcher.on(
    'raw',
    guard((_event: string, name: string, details: unknown) => {
      if (!recent.size) return;
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!watched) return;
      // fs.watch names the entry inside a watched folder, or the watched file itself.
      touched(path.resolve(watched));
      if (name) touched(path.resolve(watched, name));
    }),
  );
  watcher.on('error', (err: unknown) => {
    const code = (err as NodeJS.ErrnoException)?.code;
    const hint = code === 'ENOSPC' || code === 'EMFILE' ? ' (too many watched files: raise fs.inotify.max_user_watches, or set CHOKIDAR_USEPOLLING=1)' : '';
    log.error(`karrigell-ts: live reload: watcher error: ${(err as Error)?.message ?? String(err)}${hint}`);
  });

  // The initial scan of a big tree may take a while: the server starts anyway after READY_MAX_MS.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, READY_MAX_MS);
    timer.unref();
    watcher.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });

  return {
    add(file) {
      if (!closed) watcher.add(file);
    },
    async close() {
      closed = true;
      for (const r of recent.values()) {
        clearTimeout(r.quick);
        clearTimeout(r.settle);
      }
      recent.clear();
      await watcher.close();
    },
  };
}
