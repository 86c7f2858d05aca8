/** Maps a request path to what answers it (SPEC §2): a script, a static file, a redirect … */
import fs from 'node:fs';
import path from 'node:path';
import { INDEX_FILES, isDeclarationFile, isHiddenName, isScriptFile, PAGE_EXTS, SCRIPT_EXTS, statOf } from '../site.js';


export type Target =
  | { kind: 'script'; file: string; scriptUrl: string; args: string[] }
  | { kind: 'static'; file: string; stat: fs.Stats }
  | { kind: 'redirect'; location: string }
  | { kind: 'listing'; dir: string; urlPath: string }
  | { kind: 'error'; status: 400 | 404; reason: string };

/**
 * Decodes a raw URL path into safe segments, or says why it is refused.
 * Pure: no file-system access.
 */
export function toSegments(rawPath: string): { segments: string[]; trailingSlash: boolean } | { status: 400 | 404; reason: string } {
  if (!rawPath.startsWith('/')) return { status: 400, reason: 'the path must start with /' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { status: 400, reason: 'malformed percent-encoding in the path' };
  }
  if (decoded.includes('\0')) return { status: 400, reason: 'NUL byte in the path' };
  if (decoded.includes('\\')) return { status: 404, reason: 'backslash in the path' };
  const trailingSlash = decoded.endsWith('/');
  const segments = decoded.split('/').slice(1);
  if (trailingSlash) segments.pop();
  for (const seg of segments) {
    if (seg === '') return { status: 404, reason: 'empty path segment' };
    if (isHiddenName(seg)) return { status: 404, reason: 'hidden, private or never served' };
  }
  return { segments, trailingSlash };
}

/** Resolves a URL path (still percent-encoded, without query) under `root` (an absolute real path). */
export function resolveTarget(root: string, rawPath: string, search: string, listing: boolean): Target {
  const parsed = toSegments(rawPath);
  if ('status' in parsed) return { kind: 'error', status: parsed.status, reason: parsed.reason };
  const { segments, trailingSlash } = parsed;
  const full = path.join(root, ...segments);
  const urlOf = (n: number): string => '/' + segments.slice(0, n).map(encodeURIComponent).join('/');

  // 1. The path names an existing file or folder.
  const st = statOf(full);
  if (st?.isDirectory()) {
    if (!trailingSlash && segments.length > 0) return inside(root, full, () => ({ kind: 'redirect', location: urlOf(segments.length) + '/' + search }));
    for (const name of INDEX_FILES) {
      const file = path.join(full, name);
      const ist = statOf(file);
      if (ist?.isFile()) return inside(root, file, () => toTarget(file, ist, urlOf(segments.length) + (segments.length ? '/' : ''), []));
    }
    return listing ? inside(root, full, () => ({ kind: 'listing', dir: full, urlPath: urlOf(segments.length) + (segments.length ? '/' : '') })) : notFound;
  }
  if (st?.isFile() && !trailingSlash) return inside(root, full, () => toTarget(full, st, urlOf(segments.length), []));
  if (segments.length === 0) return notFound;

  // 2. An extension-less URL: the first page file with that name.
  if (!trailingSlash) {
    for (const ext of PAGE_EXTS) {
      const file = full + ext;
      const pst = statOf(file);
      if (pst?.isFile()) return inside(root, file, () => toTarget(file, pst, urlOf(segments.length), []));
    }
  }

  // 3. A script followed by extra segments: the longest prefix that is a script.
  for (let n = segments.length - 1; n >= 1; n--) {
    const prefix = path.join(root, ...segments.slice(0, n));
    // `evil.d` + `.ts` is a declaration file, never a page (isScriptFile says no).
    const candidates = isScriptFile(prefix) ? [prefix] : SCRIPT_EXTS.map((ext) => prefix + ext).filter(isScriptFile);
    for (const file of candidates) {
      if (statOf(file)?.isFile()) {
        const args = segments.slice(n);
        if (trailingSlash) args.push('');
        return inside(root, file, () => ({ kind: 'script', file, scriptUrl: urlOf(n), args }));
      }
    }
  }
  return notFound;
}

const notFound: Target = { kind: 'error', status: 404, reason: 'no such file' };

function toTarget(file: string, st: fs.Stats, url: string, args: string[]): Target {
  if (isDeclarationFile(file)) return notFound;
  if (isScriptFile(file)) return { kind: 'script', file, scriptUrl: url, args };
  return { kind: 'static', file, stat: st };
}

/** Follows symbolic links: a target whose real path leaves `root` is not found. */
function inside(root: string, file: string, make: () => Target): Target {
  let real: string;
  try {
    real = fs.realpathSync.native(file);
  } catch {
    return notFound;
  }
  if (real === root) return make();
  if (!real.startsWith(root + path.sep)) return notFound;
  // A link inside ROOT must not expose a hidden or private file either.
  const hidden = real.slice(root.length + 1).split(path.sep).some(isHiddenName);
  if (hidden) return notFound;
  const target = make();
  // A link named like a static file must not serve a script's source.
  return target.kind === 'static' && (isScriptFile(real) || isDeclarationFile(real)) ? notFound : target;
}

/** How long a resolution is trusted without looking at the disk again (the watcher clears it sooner). */
const FRESH_MS = 1000;
const CACHE_MAX = 10_000;

/**
 * Resolution with a small cache: a hit costs no system call (and no clock
 * read). The cache is emptied every second, as PHP's opcache trusts its
 * timestamps for a while, and `clear()` (called by the file watcher)
 * forgets it at once.
 */
export function createResolver(root: string, listing: boolean): { resolve(rawPath: string, search: string): Target; clear(): void; close(): void } {
  const cache = new Map<string, Target>();
  const expiry = setInterval(() => cache.clear(), FRESH_MS);
  expiry.unref();
  return {
    resolve(rawPath, search) {
      let target = cache.get(rawPath);
      if (target === undefined) {
        target = resolveTarget(root, rawPath, '', listing);
        if (cache.size >= CACHE_MAX) cache.clear();
        cache.set(rawPath, target);
      }
      return target.kind === 'redirect' && search ? { kind: 'redirect', location: target.location + search } : target;
    },
    close() {
      clearInterval(expiry);
    },
    clear() {
      cache.clear();
    },
  };
}
