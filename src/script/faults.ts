/**
 * A script's stray failure — a promise rejected with nobody listening, a timer
 * that throws — is logged with the script's TypeScript location and does not
 * take the server down.
 */
import { mapStack, relative } from './errors.js';
import type { ModuleRegistry } from './modules.js';
import type { Logger } from '../log.js';

let installed: ((err: unknown, kind: string) => void) | undefined;
const sites: { root: string; registry: ModuleRegistry; log: Logger }[] = [];

/** Installs the process-wide handlers once; each server adds its registry for stack mapping. */
export function watchProcessFaults(root: string, registry: ModuleRegistry, log: Logger): () => void {
  const site = { root, registry, log };
  sites.push(site);
  const remove = (): void => void sites.splice(sites.indexOf(site), 1);
  if (installed) return remove;
  installed = (err, kind) => {
    const site = sites[sites.length - 1];
    if (!site) {
      process.stderr.write(`karrigell-ts: ${kind}: ${err instanceof Error ? err.stack : String(err)}\n`);
      return;
    }
    const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
    const mapped = mapStack(stack, site.root, site.registry.unitOf);
    const where = mapped.first ? ` in ${relative(site.root, mapped.first.file)}:${mapped.first.line}:${mapped.first.column}` : '';
    site.log.error(`karrigell-ts: ${kind}${where} (the server goes on):\n${mapped.stack}`);
  };
  const handler = installed;
  process.on('unhandledRejection', (reason) => handler(reason, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => handler(err, 'uncaught exception'));
  return remove;
}
