#!/usr/bin/env node
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (status) => {
    if (status !== undefined) process.exitCode = status;
  },
  (err) => {
    process.stderr.write(`karrigell-ts: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
