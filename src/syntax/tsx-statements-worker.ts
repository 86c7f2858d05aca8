/**
 * The thread that runs `printTopLevelJsx` for the server, so that the
 * TypeScript compiler (tens of MB, and a heavy load that disturbs the
 * server thread's optimised code) never enters the server's own heap.
 * In: `{ id, source, fileName }`. Out: `{ id, text }` or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import { printTopLevelJsx } from './tsx-statements.js';

parentPort!.on('message', (msg: { id: number; source: string; fileName: string }) => {
  try {
    parentPort!.postMessage({ id: msg.id, text: printTopLevelJsx(msg.source, msg.fileName) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error)?.stack ?? String(err) });
  }
});
