/**
 * The type banner's worker thread: keeps one site checker (a TypeScript
 * LanguageService, reused incrementally) and checks the files it is sent,
 * off the server's thread.
 * In: `{ files }`. Out: `{ file, diagnostics }` for each file, then `{ done, ms }`,
 * or `{ error }` when the checker cannot work at all.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSiteChecker, type SiteChecker } from './typecheck.js';

const { root } = workerData as { root: string };
let checker: SiteChecker | undefined;

parentPort!.on('message', (msg: { files: string[] }) => {
  const started = performance.now();
  try {
    checker ??= createSiteChecker(root);
    for (const file of msg.files) parentPort!.postMessage({ file, diagnostics: checker.checkFile(file) });
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error)?.stack ?? String(err) });
    return;
  }
  parentPort!.postMessage({ done: true, ms: performance.now() - started });
});
