/**
 * The file watcher of live editing (SPEC §7): chokidar over ROOT, made exact
 * for the ways editors save.
 *
 * chokidar alone is not enough for that:
 *   - it reports a `change` at most once per 50 ms per file (a leading-edge
 *     throttle, no trailing event): the last saves of a burst are dropped;
 *   - it may look at a file between the truncation and the write of an
 *     in-place save;
 *   - after some rename-over saves it loses track of the file for good.
 * So the raw file-system events (every one, unthrottled, also those of the
 * folder) are listened to as well, and what is reported is decided by the
 * file's signature (a hash of its content), remembered for every file
 * reported: a raw event on a file makes us look at it again a few ms later
 * and report it if its signature moved (or if it was written again since it
 * was reported: something may have read it half-written); a last look 60 ms
 * after a report catches what no event announced. The last save of a burst
 * is therefore always reported after it was written, and a file is reported
 * once per distinct content, whichever of chokidar or us sees it first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.js';
import { trace } from './trace.js';
import { statOf } from '../site.js';

export type WatchKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

export interface FileEvent {
  kind: WatchKind;
  /** Absolute path. */
  file: string;
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
/** A raw event on a file reported before: look at it this soon. */
const QUICK_MS = 3;
/** A raw event on a file never reported: give chokidar this long to report it (as an `add` or a `change`) first. */
const PROBE_MS = 20;
/** A file never reported is reported by a probe only if written this recently (not for a chmod, an atime …). */
const PROBE_FRESH_MS = 2000;
/** The last look at a reported file, after chokidar's own 50 ms throttle has ended. */
const SETTLE_MS = 60;
/** A file written again this soon after it was reported is reported again even with the same content (not a later chmod). */
const AGAIN_MS = 100;
/** Signatures remembered (the files changed during the session; the oldest are forgotten first). */
const KNOWN_MAX = 20_000;
const READY_MAX_MS = 10_000;

const MISSING = '-';
const DIR = 'dir';

/** A file being looked at: pending looks, and whether raw events came since it was last reported. */
interface Active {
  quick?: NodeJS.Timeout;
  settle?: NodeJS.Timeout;
  touched: boolean;
  /** When it was last reported (Date.now()). */
  reportedAt?: number;
}

/** What a file holds now: `-` when it does not exist. Never throws, never blocks on a FIFO. */
export function signature(file: string): string {
  const st = statOf(file);
  if (!st) return MISSING;
  if (st.isDirectory()) return DIR;
  const meta = `s:${st.mode}:${st.size}:${st.mtimeMs}:${st.ino}`;
  if (!st.isFile() || st.size > HASH_MAX) return meta;
  try {
    return 'h:' + createHash('sha1').update(fs.readFileSync(file)).digest('base64');
  } catch {
    return fs.existsSync(file) ? meta : MISSING;
  }
}

/**
 * Watches `root` (node_modules and .git excepted); calls `onEvent`
 * synchronously for each change. Resolves once the initial scan is done.
 * `onEvent` errors are caught and logged: the watcher never throws.
 */
export async function watchSite(root: string, onEvent: (event: FileEvent) => void, log: Logger): Promise<SiteWatcher> {
  /** Last reported signature of each file reported. */
  const known = new Map<string, string>();
  const active = new Map<string, Active>();
  let closed = false;

  const ignored = (p: string): boolean => {
    const rel = path.relative(root, p);
    if (!rel || rel.startsWith('..')) return false;
    for (const seg of rel.split(path.sep)) if (IGNORED_DIRS.has(seg)) return true;
    return false;
  };

  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    // We handle delete-then-recreate ourselves; chokidar's `atomic` would delay every deletion by 100 ms.
    atomic: false,
    ignored,
    // The watcher never keeps the process alive by itself (the HTTP server does; a server that failed to listen must let the process exit).
    persistent: false,
    // A symbolic link is watched as itself, never followed: one inside ROOT pointing to `/` or `/usr`
    // made chokidar walk and watch the whole disk (1.2 GB RSS, the server unresponsive for seconds, an
    // ENOTDIR flood). The server never serves through a link that leaves ROOT anyway (SPEC §2).
    followSymlinks: false,
  });

  function deliver(event: FileEvent): void {
    try {
      onEvent(event);
    } catch (err) {
      log.error(`karrigell-ts: live reload: handling ${event.kind} of ${event.file} failed: ${(err as Error)?.stack ?? String(err)}`);
    }
  }

  function entry(file: string): Active {
    let a = active.get(file);
    if (!a) active.set(file, (a = { touched: false }));
    return a;
  }

  function remember(file: string, sig: string): void {
    known.delete(file);
    known.set(file, sig);
    if (known.size > KNOWN_MAX) known.delete(known.keys().next().value!);
  }

  /** Reports `file` if what it holds differs from what was last reported (or `again`). `kind` is a hint, corrected by what is on disk. */
  function report(file: string, kind: 'add' | 'change' | 'unlink', sig = signature(file), again = false): void {
    const prev = known.get(file);
    const a = entry(file);
    settleLater(file, a);
    if ((sig === prev && !again) || sig === DIR) return;
    if (sig === MISSING) kind = 'unlink';
    else if (prev === MISSING || kind === 'unlink') kind = 'add';
    remember(file, sig);
    a.touched = false;
    a.reportedAt = Date.now();
    trace('report', file);
    deliver({ kind, file });
  }

  function settleLater(file: string, a: Active): void {
    clearTimeout(a.settle);
    a.settle = setTimeout(() => look(file, 'settle'), SETTLE_MS).unref();
  }

  /** A raw event named `file`: look at it soon (sooner if it was reported before: we know what it held). */
  function touched(file: string): void {
    const a = entry(file);
    a.touched = true;
    a.quick ??= setTimeout(() => look(file, 'quick'), known.has(file) ? QUICK_MS : PROBE_MS).unref();
  }

  function look(file: string, which: 'quick' | 'settle'): void {
    const a = active.get(file);
    if (closed || !a) return;
    a[which] = undefined;
    try {
      const sig = signature(file);
      const prev = known.get(file);
      if (sig !== prev && sig !== DIR && (prev !== undefined || freshFile(file))) {
        // Seen by us before chokidar (or instead of it: make sure it watches the file again).
        report(file, prev === undefined || prev === MISSING ? 'add' : 'change', sig);
        if (sig !== MISSING) watcher.add(file);
        return;
      }
      if (a.touched && sig === prev && sig !== DIR && a.reportedAt !== undefined && Date.now() - a.reportedAt < AGAIN_MS) {
        // Written again right after it was reported, the same content in the end: what was
        // compiled meanwhile may have read it half-written (truncated, then written).
        report(file, 'change', sig, true);
        return;
      }
      a.touched = false;
      if (!a.quick && !a.settle) active.delete(file);
    } catch (err) {
      log.error(`karrigell-ts: live reload: checking ${file} failed: ${String(err)}`);
    }
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
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!watched) return;
      trace('raw', name ? path.resolve(watched, name) : watched);
      // fs.watch names the watched file itself, or an entry of the watched folder. Deno's
      // fs.watch of a file also names the file renamed onto it (an editor's save: a temporary
      // file written, then renamed over the page): then it is the watched file that changed.
      if (!name || path.basename(watched) === name || isFile(watched)) touched(path.resolve(watched));
      else {
        const file = path.resolve(watched, name);
        if (!ignored(file)) touched(file);
      }
    }),
  );
  // One line per kind of error: a tree the system cannot watch would otherwise log one line per file.
  const logged = new Set<string>();
  watcher.on('error', (err: unknown) => {
    const line = watchErrorLine(err, root);
    const key = (err as NodeJS.ErrnoException)?.code ?? line;
    if (logged.has(key)) return;
    logged.add(key);
    log.error(line);
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
      for (const a of active.values()) {
        clearTimeout(a.quick);
        clearTimeout(a.settle);
      }
      active.clear();
      known.clear();
      await watcher.close();
    },
  };
}

/** Where Linux keeps the bound of inotify watches per user. */
const MAX_WATCHES_FILE = '/proc/sys/fs/inotify/max_user_watches';

/**
 * The one line logged for a watcher error. Running out of inotify watches
 * (ENOSPC) or descriptors (EMFILE) says what to raise and by how much.
 */
export function watchErrorLine(err: unknown, root: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  const message = (err as Error)?.message ?? String(err);
  if (code === 'ENOSPC') {
    let limit = 'its current value';
    try {
      limit = fs.readFileSync(MAX_WATCHES_FILE, 'utf8').trim();
    } catch {
      /* not Linux: the message still says what to raise */
    }
    return (
      `karrigell-ts: live reload: the system's limit of watched files (fs.inotify.max_user_watches = ${limit}) is too low for ${root}: ` +
      `edits to some files will not show live until you raise it, e.g. sudo sysctl fs.inotify.max_user_watches=524288 ` +
      `(or keep big folders out of ROOT: node_modules and .git are never watched)`
    );
  }
  if (code === 'EMFILE') {
    return `karrigell-ts: live reload: too many open files while watching ${root} (${message}): raise the limit of open files (ulimit -n) or fs.inotify.max_user_instances`;
  }
  return `karrigell-ts: live reload: watcher error: ${message}`;
}

function isFile(file: string): boolean {
  return statOf(file)?.isFile() ?? false;
}

/** A regular file written lately: a raw event on a file never reported is a change only then. */
function freshFile(file: string): boolean {
  const st = statOf(file);
  return !!st && st.isFile() && Date.now() - st.mtimeMs < PROBE_FRESH_MS;
}
