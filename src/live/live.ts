/**
 * Live editing in development (SPEC §7): the file watcher and the browser's live reload.
 *
 * On every change the watcher reports (synchronously, in its event handler):
 *   1. the pages and modules that depend on the file are noted (before they are forgotten);
 *   2. the compiled file and its dependents are forgotten (`registry.invalidate`):
 *      the next request recompiles the file and links its dependents again (their
 *      code is kept after an edit in place; recompiled when a file came or went);
 *      other modules keep their state;
 *   3. cached path resolutions and static contents are forgotten, and the
 *      translation tables for a file under `_translations/`;
 *   4. the browsers showing a page concerned update it in place or reload (others may swap a stylesheet).
 */
import path from 'node:path';
import type { ModuleRegistry } from '../script/modules.js';
import type { EarlyHandler, ResultFilter } from '../http/handler.js';
import type { Translations } from '../names/translate.js';
import type { Logger } from '../log.js';
import type { LiveMode } from '../options.js';
import { isDeclarationFile, isHiddenName, isScriptFile, within } from '../site.js';
import { watchSite, type FileEvent, type SiteWatcher } from './watch.js';
import { createReloadHub, type Change, type ReloadHub } from './reload.js';
import { trace } from './trace.js';

export interface LiveDeps {
  root: string;
  registry: ModuleRegistry;
  /** Forgets cached path resolutions and static file contents for a file. */
  forget(file: string): void;
  translations: Translations;
  log: Logger;
  /** `--live`: update pages in place (default) or reload them. */
  mode?: LiveMode;
}

export interface LiveReload {
  /** The event-stream side (for tests and diagnostics). */
  hub: ReloadHub;
  /** Answers the event stream (absent when nothing could be watched). */
  early?: EarlyHandler;
  /** Adds the live-reload script to HTML results (absent when nothing could be watched). */
  filter?: ResultFilter;
  close(): Promise<void>;
}

/** A deleted file is announced to browsers after this delay, unless it reappears (delete-then-recreate saves). */
const UNLINK_GRACE_MS = 100;
/** How long the pages that depended on a file are remembered after it changed (its dependents are forgotten meanwhile). */
const CARRY_MS = 1000;
/** Files that change how every script compiles. */
const CONFIG_FILES = new Set(['tsconfig.json', 'jsconfig.json', 'package.json']);

/** The URL path at which the site serves `file` as is, if it does (a stylesheet, an image …). */
function staticUrl(root: string, file: string): string | undefined {
  if (!within(root, file) || file === root || isScriptFile(file) || isDeclarationFile(file)) return undefined;
  const segments = path.relative(root, file).split(path.sep);
  if (segments.some(isHiddenName)) return undefined;
  return '/' + segments.join('/');
}

/** Starts watching ROOT and serving the live-reload endpoint. Never throws: without a watcher, the server runs without live reload. */
export async function startLiveReload(deps: LiveDeps): Promise<LiveReload> {
  const { root, registry, forget, translations, log, mode } = deps;
  const hub = createReloadHub(root, mode);
  const translationsDir = path.join(root, '_translations');
  /** Recently changed files: who depended on them, and a deletion not yet announced. */
  const carry = new Map<string, { affected: Set<string>; expire: NodeJS.Timeout; unlink?: NodeJS.Timeout }>();
  const outside = new Set<string>();
  let seenCompiles = -1;
  let watcher: SiteWatcher | undefined;

  function onEvent(event: FileEvent): void {
    const { file, kind } = event;
    if (kind === 'addDir' || kind === 'unlinkDir') {
      forget(file);
      if (within(translationsDir, file) || within(file, translationsDir)) translations.forget(file);
      return;
    }
    const prev = carry.get(file);
    const affected = registry.dependents(file);
    affected.add(file);
    if (prev) for (const f of prev.affected) affected.add(f);
    const config = CONFIG_FILES.has(path.basename(file));
    if (config) registry.invalidateAll();
    // An edit in place keeps the compiled code of what imports the file (only linked again).
    else registry.invalidate(file, kind === 'change');
    forget(file);
    if (within(translationsDir, file)) translations.forget(file);

    if (prev) {
      clearTimeout(prev.expire);
      clearTimeout(prev.unlink);
    }
    const entry: { affected: Set<string>; expire: NodeJS.Timeout; unlink?: NodeJS.Timeout } = {
      affected,
      expire: setTimeout(() => {
        if (carry.get(file) === entry && !entry.unlink) carry.delete(file);
      }, CARRY_MS).unref(),
    };
    carry.set(file, entry);

    const change: Change = { file, kind, affected, url: staticUrl(root, file) };
    if (config) change.all = true;
    if (kind === 'unlink') {
      entry.unlink = setTimeout(() => {
        entry.unlink = undefined;
        if (carry.get(file) === entry) carry.delete(file);
        warm(hub.publish(change));
      }, UNLINK_GRACE_MS).unref();
    } else {
      warm(hub.publish(change));
    }
  }

  /**
   * Starts compiling the scripts that browsers are about to ask for again,
   * while the reload travels to them (only those being viewed: an edit of a
   * helper used by a hundred pages compiles the hundred lazily).
   */
  function warm(files: Set<string>): void {
    for (const f of files) {
      if (isScriptFile(f) && within(root, f)) registry.loadPage(f).then(() => trace('warmed', f), () => {});
    }
  }

  /** Modules imported from outside ROOT are watched too, once compiled. */
  function watchOutside(): void {
    if (!watcher || registry.compiles === seenCompiles) return;
    seenCompiles = registry.compiles;
    for (const f of registry.files()) {
      if (!within(root, f) && !outside.has(f)) {
        outside.add(f);
        watcher.add(f);
      }
    }
  }

  try {
    watcher = await watchSite(root, onEvent, log);
  } catch (err) {
    log.error(`karrigell-ts: live reload is off: cannot watch ${root} (${(err as Error)?.message ?? String(err)})`);
    return { hub, close: async () => hub.close() };
  }

  return {
    hub,
    early(req, res, pathname) {
      watchOutside();
      return hub.early(req, res, pathname);
    },
    filter(result, ctx) {
      try {
        hub.filter(result, ctx);
        watchOutside();
      } catch (err) {
        log.error(`karrigell-ts: live reload: ${String(err)}`);
      }
    },
    async close() {
      hub.close();
      for (const entry of carry.values()) {
        clearTimeout(entry.expire);
        clearTimeout(entry.unlink);
      }
      carry.clear();
      await watcher?.close();
    },
  };
}
