// The demo site: its error page shows the TypeScript location, in development and in the production log
// (regression: frames of a site inside the package folder were dropped as the server's own).
import { it, expect } from 'vitest';
import path from 'node:path';
import { createServer } from '../dist/index.js';
import { PROJECT } from './helpers.js';

const root = path.join(PROJECT, 'www');

it('development: /broken shows broken.ts:8:22, a code frame and the mapped stack', async () => {
  const server = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true }, { access() {}, info() {}, error() {} });
  try {
    const res = await fetch(server.url + '/broken');
    const body = await res.text();
    expect(res.status).toBe(500);
    expect(body).toContain('broken.ts:8:22');
    expect(body).toContain('&gt;  8 |   return order.lines.reduce');
    expect(body).toContain('at total (broken.ts:8:22)');
  } finally {
    await server.close();
  }
});

it('production: the log line of /broken names broken.ts:8:22 under the request id', async () => {
  const errors: string[] = [];
  const server = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true }, { access() {}, info() {}, error: (m: string) => void errors.push(m) });
  try {
    const res = await fetch(server.url + '/broken');
    const id = res.headers.get('x-request-id');
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('broken.ts');
    expect(errors.find((l) => l.includes(`[${id}]`))).toContain('broken.ts:8:22');
  } finally {
    await server.close();
  }
});
