/**
 * The site's rules, in one place (SPEC §2): which files are scripts, which
 * names are never served, how a site's scripts are found, where the package
 * itself lives. A leaf: imports nothing of ours.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The karrigell-ts package folder (the one holding `dist/`, `src/`, `types/`, `templates/`). */
export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The stat of `file`, or undefined when there is none to read: missing, ENOTDIR (a file used as a folder), ELOOP, EACCES … */
export function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** Script extensions, in the order a URL without extension tries them. */
export const SCRIPT_EXTS = ['.ts', '.tsx', '.tsp'] as const;
/** Every extension a URL without extension may resolve to, in order. */
export const PAGE_EXTS = [...SCRIPT_EXTS, '.html', '.htm'] as const;
/** A folder's index files, in order. */
export const INDEX_FILES = PAGE_EXTS.map((ext) => 'index' + ext);

/** Names never served whatever their place: project configuration next to the pages. */
export const NEVER_SERVED: ReadonlySet<string> = new Set(['node_modules', 'tsconfig.json', 'package.json', 'package-lock.json']);

/** True for a TypeScript declaration file (`x.d.ts`, `x.d.mts`, `x.d.cts`): never a page, never served. */
export function isDeclarationFile(file: string): boolean {
  return /\.d\.[cm]?ts$/.test(file);
}

/** True for a page script's file name. */
export function isScriptFile(file: string): boolean {
  return SCRIPT_EXTS.some((ext) => file.endsWith(ext)) && !isDeclarationFile(file);
}

/** A name the server never serves: hidden (`.x`), private (`_x`) or project configuration. */
export function isHiddenName(name: string): boolean {
  return name[0] === '.' || name[0] === '_' || NEVER_SERVED.has(name);
}

/** True when `file` is `dir` or inside it (both absolute, same separators). */
export function within(dir: string, file: string): boolean {
  return file === dir || file.startsWith(dir + path.sep);
}

/** The path of `file` relative to `root`, with `/` separators. */
export function relativePath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** True when some segment of `file`, relative to `root`, starts with `_` (helpers, included scripts). */
export function isPrivatePath(root: string, file: string): boolean {
  return relativePath(root, file)
    .split('/')
    .some((seg) => seg.startsWith('_'));
}

/** A folder name the walker and the watcher never enter. */
export function isSkippedFolder(name: string): boolean {
  return name[0] === '.' || name === 'node_modules';
}

/**
 * Walks a site: every file under `root` except in dot-folders and
 * node_modules. Links to folders are not followed (no cycles, nothing
 * outside ROOT); links to files are. Unreadable folders are skipped.
 */
export function walkSite(root: string, visit: (file: string, name: string) => void): void {
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name[0] === '.' || e.name === 'node_modules') continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) visit(full, e.name);
      else if (e.isSymbolicLink()) {
        try {
          if (fs.statSync(full).isFile()) visit(full, e.name);
        } catch {
          // a dangling link
        }
      }
    }
  };
  walk(root);
}

/** Every page script under `root`, sorted. */
export function listScripts(root: string): string[] {
  const found: string[] = [];
  walkSite(root, (file, name) => {
    if (isScriptFile(name)) found.push(file);
  });
  return found.sort();
}

/** The real path of a site folder, or why it cannot be one (the caller turns that into its own error). */
export function siteFolder(root: string): { real: string } | { problem: string } {
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(root));
  } catch {
    return { problem: `the site folder ${root} does not exist (create it, or run: npx karrigell-ts init ${root})` };
  }
  if (!fs.statSync(real).isDirectory()) return { problem: `${root} is not a folder` };
  return { real };
}
