/**
 * Memory stays bounded on the Node running the suite (CI runs it on 20, 22
 * and 24): a production server with --max-sessions 1000 grows by less than
 * 80 MB of RSS over 20 000 new sessions of 8 KB each. Node 24 grew by 180 MB
 * before the server bounded its heap's garbage (src/heap.ts). The figures come
 * from `npm run bench:memory` (bench/memory.js), run here for this Node.
 */
import { it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT } from './helpers.js';

function benchMemory(only: string): Promise<Record<string, number | string>> {
  const child = spawn(process.execPath, [path.join(PROJECT, 'bench', 'memory.js')], {
    cwd: PROJECT,
    env: { ...process.env, BENCH_ONLY: only, BENCH_JSON: '1', BENCH_NODES: process.execPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`bench/memory.js exited ${code}: ${err}`)))),
  );
}

it('20 000 new 8 KB sessions with --max-sessions 1000: RSS grows by less than 80 MB', async () => {
  const r = (await benchMemory('sessions')) as { node: string; before: number; after: number; count: number };
  console.log(`memory bounds (${r.node}): RSS ${r.before.toFixed(1)} MB → ${r.after.toFixed(1)} MB over ${r.count} new sessions`);
  expect(r.count).toBe(20_000);
  expect(r.after - r.before).toBeLessThan(80);
}, 120_000);
