/**
 * Old compiled versions are released (SPEC §7): 1 000 edits of pages and of
 * the modules they import (four pairs side by side), each one served, and the
 * heap does not grow with them. Runs in a child process started with
 * --expose-gc so that the heap can be measured after full collections.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { PROJECT } from './helpers.js';

const EDITS = 1000;
const WARMUP = 200;

/** The child: a server on a temp site; every edit is waited for over HTTP. */
const CHILD = String.raw`
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
const { createServer } = await import(process.env.KTS_DIST);
const EDITS = Number(process.env.KTS_EDITS), WARMUP = Number(process.env.KTS_WARMUP), SITES = 4;
const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-mem-'));
const root = path.join(parent, 'www');
fs.mkdirSync(path.join(root, '_lib'), { recursive: true });
// A big literal in each version: a leaked version would show in the heap at once.
const pad = 'x'.repeat(20000);
const page = (k, i) => 'import { m } from "./_lib/mod' + k + '.ts";\nconst pad = "' + pad + '";\nprint(' + JSON.stringify('p' + i + ' ') + ' + m + " " + pad.length);\n';
const mod = (i) => 'export const m = ' + JSON.stringify('m' + i) + ';\nexport const pad = "' + pad + i + '";\n';
const state = [];
for (let k = 0; k < SITES; k++) {
  fs.writeFileSync(path.join(root, 'page' + k + '.ts'), page(k, 0));
  fs.writeFileSync(path.join(root, '_lib', 'mod' + k + '.ts'), mod(0));
  state.push({ p: 0, m: 0 });
}
const server = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true });
const agent = new http.Agent({ keepAlive: true });
const get = (k) => new Promise((resolve, reject) => {
  http.get(server.url + '/page' + k, { agent }, (res) => {
    let t = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (t += c));
    res.on('end', () => resolve(t));
  }).on('error', reject);
});
const heap = () => { for (let i = 0; i < 4; i++) globalThis.gc(); return process.memoryUsage().heapUsed; };
async function shows(k, want, edit) {
  for (let tries = 0; ; tries++) {
    if ((await get(k)).startsWith(want)) return;
    if (tries > 3000) throw new Error('edit ' + edit + ' never showed: ' + want);
    await new Promise((r) => setTimeout(r, 2));
  }
}
const t0 = Date.now();
let base = 0;
// Four page+module pairs edited side by side; every edit is served before the next one of its pair.
for (let round = 1, done = 0; done < EDITS; round++) {
  const waits = [];
  for (let k = 0; k < SITES && done < EDITS; k++, done++) {
    const s = state[k];
    if (round % 2) fs.writeFileSync(path.join(root, 'page' + k + '.ts'), page(k, (s.p = round)));
    else fs.writeFileSync(path.join(root, '_lib', 'mod' + k + '.ts'), mod((s.m = round)));
    waits.push(shows(k, 'p' + s.p + ' m' + s.m + ' 20000', done + 1));
  }
  await Promise.all(waits);
  if (done === WARMUP) base = heap();
}
// A watcher event of the last edits can come after their page was served (the page had found the
// change itself): it evicts that unit, and the next request compiles it again. Once the events are
// in, each page is asked once more, so that what is counted is what the server holds for its pages.
await new Promise((r) => setTimeout(r, 300));
for (let k = 0; k < SITES; k++) await shows(k, 'p' + state[k].p + ' m' + state[k].m + ' 20000', EDITS);
const final = heap();
const out = { base, final, growth: final - base, size: server.registry.size, compiles: server.registry.compiles, ms: Date.now() - t0 };
agent.destroy();
await server.close(500);
fs.rmSync(parent, { recursive: true, force: true });
process.stdout.write(JSON.stringify(out) + '\n');
`;

describe('live editing memory', () => {
  it(`${EDITS} edits: old compiled versions are released`, async () => {
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD], {
      cwd: PROJECT,
      env: { ...process.env, KTS_DIST: pathToFileURL(path.join(PROJECT, 'dist', 'index.js')).href, KTS_EDITS: String(EDITS), KTS_WARMUP: String(WARMUP) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    const r = JSON.parse(out.trim().split('\n').pop()!) as { base: number; final: number; growth: number; size: number; compiles: number; ms: number };
    console.log(`live memory: ${EDITS} edits in ${r.ms} ms, heap ${(r.base / 1e6).toFixed(1)} MB after ${WARMUP} edits → ${(r.final / 1e6).toFixed(1)} MB after ${EDITS} (${r.compiles} compiles, ${r.size} units held)`);
    // Each version holds a 20 kB literal twice (page and module): keeping them would add > 30 MB.
    expect(r.growth).toBeLessThan(4 * 1024 * 1024);
    expect(r.size).toBe(8);
    // Every edit compiled something: the edited file alone, one by one, or pages edited side by
    // side in one batch (a first compile compiles the not-compiled pages beside it).
    expect(r.compiles).toBeGreaterThanOrEqual(EDITS / 2);
  }, 60_000);
});
