#!/usr/bin/env node
import { holdYoungGeneration } from '../dist/heap.js';

// Before the server's modules load (dist/heap.js says why).
holdYoungGeneration();
const { main } = await import('../dist/cli/cli.js');

/** Ends a command that has finished, even if a stray handle would keep the process alive. */
function finish(status) {
  process.exitCode = status;
  setTimeout(() => process.exit(status), 200).unref();
}

main(process.argv.slice(2)).then(
  (status) => {
    if (status !== undefined) finish(status);
  },
  (err) => {
    process.stderr.write(`karrigell-ts: ${err && err.message ? err.message : err}\n`);
    finish(1);
  },
);
