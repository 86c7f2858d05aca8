// Issue 8: a client whose headers never finish is closed by the server (headersTimeout 10 s,
// checked every second) while other clients are served.
import { it, expect, afterAll } from 'vitest';
import net from 'node:net';
import { createServer } from '../dist/index.js';
import { tempSite } from './helpers.js';

const server = await createServer({ root: tempSite({ 'ok.ts': 'print("ok");\n' }), port: 0, host: '127.0.0.1', quiet: true, production: true });
afterAll(() => server.close());

it('closes a connection whose headers never finish, and serves others meanwhile', async () => {
  const { port } = new URL(server.url);
  const started = Date.now();
  const closed = new Promise<{ ms: number; data: string }>((resolve) => {
    let data = '';
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    socket.on('data', (d) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ ms: Date.now() - started, data }));
  });
  for (let i = 0; i < 5; i++) expect(await (await fetch(server.url + '/ok')).text()).toBe('ok\n');
  const { ms, data } = await closed;
  expect(ms).toBeGreaterThanOrEqual(9_000);
  expect(ms).toBeLessThan(13_500);
  expect(data === '' || data.startsWith('HTTP/1.1 408')).toBe(true);
}, 20_000);
