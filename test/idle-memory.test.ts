/**
 * The development server gives memory back once it idles (issue 16): a
 * memory-reducing collection of its heap a second after the requests stop
 * (heap.ts's reduceWhenIdle; the TypeScript worker does the same after its
 * jobs). The gc() it takes for that is never in a page's scope.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startServer, tempSite, type Running } from './helpers.js';

/** Node 22 and 24 (V8 12 on): gc() takes the options of a compacting collection. Node 20's plain one gives back a few MB, as V8 would on its own. */
const COMPACTS = Number(process.versions.v8.split('.')[0]) >= 12;

describe('a development server that idles', () => {
  let server: Running;
  beforeAll(async () => {
    const root = tempSite({
      // Each request keeps about 30 MB of objects until it ends: the old generation grows with them.
      'garbage.ts': 'const kept = Array.from({ length: 300_000 }, (_, i) => ({ i, s: "item " + i, list: [i, i + 1] }));\nprint(String(kept.length));\n',
      'gc.ts': 'print(typeof gc + " " + typeof (globalThis as any).gc);\n',
    });
    server = await startServer(root);
  });
  afterAll(() => server?.close());

  it.runIf(COMPACTS)('gives back the heap its requests grew, within seconds (V8 alone kept it)', async () => {
    const total = (): number => v8.getHeapStatistics().total_heap_size / 1048576;
    for (let i = 0; i < 4; i++) expect(await (await fetch(server.url + '/garbage')).text()).toBe('300000\n');
    const grown = total();
    // The server looks every second whether it idles.
    let now = grown;
    for (let waited = 0; waited < 4000 && now > grown - 15; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      now = total();
    }
    expect(grown - now, `heap ${grown.toFixed(1)} MB after the requests, ${now.toFixed(1)} MB after idling`).toBeGreaterThan(15);
  });

  it('never shows the gc() it takes: not to a page, not in a new context', async () => {
    expect(await (await fetch(server.url + '/gc')).text()).toBe('undefined undefined\n');
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
