/**
 * The type banner's worker thread: keeps one site checker (a TypeScript
 * LanguageService, reused incrementally) and checks the files it is sent,
 * off the server's thread. Messages: in `{ file }`, out `{ file, diagnostics }`
 * or `{ error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSiteChecker, type SiteChecker } from './typecheck.js';

const { root } = workerData as { root: string };
let checker: SiteChecker | undefined;
const queue = new Set<string>();
let scheduled = false;

function drain(): void {
  scheduled = false;
  for (const file of queue) {
    queue.delete(file);
    try {
      checker ??= createSiteChecker(root);
      parentPort!.postMessage({ file, diagnostics: checker.checkFile(file) });
    } catch (err) {
      parentPort!.postMessage({ error: (err as Error)?.stack ?? String(err) });
      return;
    }
  }
}

parentPort!.on('message', (msg: { file: string }) => {
  // Several requests for the same file while one check runs make one more check.
  queue.delete(msg.file);
  queue.add(msg.file);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});
