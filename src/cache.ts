/**
 * The cache folder of karrigell-ts: what the server keeps between runs to
 * start faster (the development certificate, the TypeScript worker's code
 * cache). Losing it costs time, never correctness.
 */
import os from 'node:os';
import path from 'node:path';

/** `$XDG_CACHE_HOME/karrigell-ts`, else `~/.cache/karrigell-ts` (`%LOCALAPPDATA%` on Windows). */
export function cacheFolder(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || (process.platform === 'win32' && env.LOCALAPPDATA) || path.join(os.homedir(), '.cache');
  return path.join(base, 'karrigell-ts');
}
