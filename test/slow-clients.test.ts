/**
 * Issue 8 — slow and broken clients against an in-process server: headers
 * that never finish, bodies that stall, clients that disconnect mid-body or
 * mid-response (large static file, large script output). Other clients are
 * served meanwhile, and over 1 000 such clients no file descriptor and no
 * memory is leaked (open fds of this process and heap after a full GC).
 *
 * Not tested here because it takes too long: connections whose headers never
 * finish are closed by Node's headersTimeout (10 s in src/server.ts, checked
 * every second), and a body that stalls is closed by requestTimeout (60 s); see the
 * issue 8 report for the suggested values.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { createServer } from '../dist/index.js';
import { tempSite } from './helpers.js';
import { sendRaw, rawGet, fdCount, settledHeap, waitUntil, watchStrayFailures, memoryLog } from './attack-helpers.js';

const MB = 1024 * 1024;
/** Allowed growth after 1 000 broken clients, once everything settled. */
const FD_TOLERANCE = 8;
const HEAP_TOLERANCE = 12 * MB;

let port = 0;
let devPort = 0;
let close: () => Promise<void>;
let closeDev: () => Promise<void>;
let watch: ReturnType<typeof watchStrayFailures>;
const log = memoryLog();

beforeAll(async () => {
  watch = watchStrayFailures();
  const root = tempSite({
    'index.html': '<p>home page</p>\n',
    'echo.ts': `RESPONSE.headers['content-type'] = 'application/json';\nprint(JSON.stringify(Object.keys(QUERY)));\n`,
    'ping.ts': `RESPONSE.headers['content-type'] = 'text/plain';\nprint('pong');\n`,
    '_lib/big.ts': `export const BIG = 'x'.repeat(${MB / 4});\n`,
    'bigout.ts': `import { BIG } from './_lib/big.ts';\nRESPONSE.headers['content-type'] = 'text/plain';\nprint(BIG);\n`,
    'big.bin': Buffer.alloc(8 * MB, 0x61), // far above the static cache (256 KB): streamed from disk
  });
  const running = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true, timeout: 1 }, log);
  port = Number(new URL(running.url).port);
  close = () => running.close(500);
  // The same site in development: live reload and its event stream are on.
  const dev = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, timeout: 1 }, log);
  devPort = Number(new URL(dev.url).port);
  closeDev = () => dev.close(500);
  // Warm up: compile the scripts, open whatever is opened once.
  for (const p of ['/index.html', '/echo', '/ping', '/bigout', '/big.bin']) expect((await sendRaw(port, rawGet(p))).status).toBe(200);
});

afterAll(async () => {
  await close?.();
  await closeDev?.();
  watch?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connection that writes `data`, then waits `holdMs` and disconnects (RST-free close). */
function brokenClient(data: string | Buffer, opts: { holdMs?: number; untilData?: boolean; to?: number } = {}): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(opts.to ?? port, '127.0.0.1');
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve();
    };
    sock.on('error', end);
    sock.on('close', end);
    if (opts.untilData) sock.once('data', end);
    sock.write(data, () => {
      if (!opts.untilData) setTimeout(end, opts.holdMs ?? 2);
    });
    setTimeout(end, 5000);
  });
}

/** Meanwhile, an ordinary client asks for /ping again and again; returns its worst latency and any failure. */
function ordinaryClient(): { stop(): Promise<{ count: number; worstMs: number; failures: string[] }> } {
  let running = true;
  let count = 0;
  let worstMs = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const res = await sendRaw(port, rawGet('/ping'), { timeoutMs: 3000 });
      const ms = performance.now() - t0;
      worstMs = Math.max(worstMs, ms);
      count++;
      if (res.status !== 200 || res.text !== 'pong\n') failures.push(`status ${res.status} ${res.timedOut ? '(timed out)' : ''}`);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { count, worstMs, failures };
    },
  };
}

/**
 * Runs `total` broken clients, `parallel` at a time, while an ordinary client
 * is served; then checks that fds and heap came back. Stops early (and fails)
 * once fds grow by more than 4 × the tolerance, so that a leak stays small.
 */
async function expectNoLeak(what: string, total: number, make: () => Promise<void>, parallel = 50): Promise<void> {
  const fds0 = fdCount();
  const heap0 = await settledHeap();
  const ordinary = ordinaryClient();
  let sent = 0;
  while (sent < total) {
    await Promise.all(Array.from({ length: parallel }, make));
    sent += parallel;
    if (fdCount() - fds0 > 2 * FD_TOLERANCE) {
      await sleep(100);
      if (fdCount() - fds0 > 2 * FD_TOLERANCE) break; // leaking: stop before it grows
    }
  }
  const served = await ordinary.stop();
  expect(served.failures, `${what}: ordinary requests failed meanwhile`).toEqual([]);
  expect(served.count, `${what}: ordinary requests served meanwhile`).toBeGreaterThan(0);
  expect(served.worstMs, `${what}: worst latency of an ordinary request meanwhile`).toBeLessThan(3000);
  await waitUntil(() => fdCount() - fds0 <= FD_TOLERANCE, 1500);
  const fds1 = fdCount();
  expect(fds1 - fds0, `${what}: open fds ${fds0} → ${fds1} after ${sent} clients`).toBeLessThanOrEqual(FD_TOLERANCE);
  const heap1 = await settledHeap();
  expect(heap1 - heap0, `${what}: heap ${(heap0 / MB).toFixed(1)} → ${(heap1 / MB).toFixed(1)} MB`).toBeLessThan(HEAP_TOLERANCE);
  expect(watch.failures, watch.failures.join('\n')).toEqual([]);
  // And the server still answers.
  expect((await sendRaw(port, rawGet('/index.html'))).status).toBe(200);
}

describe('slow and broken clients (in-process server)', () => {
  it('connections whose headers never finish do not stop other clients being served, and cost nothing once gone', async () => {
    const fds0 = fdCount();
    const hanging: net.Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(`GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ${'y'.repeat(i)}`); // never the blank line
      hanging.push(s);
    }
    await sleep(100);
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => sendRaw(port, rawGet('/ping'), { timeoutMs: 3000 })));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(performance.now() - t0).toBeLessThan(3000);
    // Still open: nothing answered the unfinished requests.
    expect(hanging.every((s) => !s.destroyed)).toBe(true);
    for (const s of hanging) s.destroy();
    expect(await waitUntil(() => fdCount() - fds0 <= FD_TOLERANCE, 3000), `fds ${fds0} → ${fdCount()}`).toBe(true);
  });

  it('a body that stalls gets 503 at --timeout while other clients are served', async () => {
    const ordinary = ordinaryClient();
    const t0 = performance.now();
    const [form, upload] = await Promise.all([
      sendRaw(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\na=1&b=', { timeoutMs: 4000, untilComplete: true }),
      sendRaw(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000\r\n\r\n--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nxx', { timeoutMs: 4000, untilComplete: true }),
    ]);
    const served = await ordinary.stop();
    // The server may keep these connections open (see the next test): the 503 itself is what counts here.
    expect(form.status, form.raw.toString('latin1').slice(0, 200)).toBe(503);
    expect(upload.status, upload.raw.toString('latin1').slice(0, 200)).toBe(503);
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(served.failures).toEqual([]);
    expect(served.count).toBeGreaterThan(5);
    expect(served.worstMs).toBeLessThan(1000);
  });

  // Known bug (issue 8 report): after the 503 the server answers `Connection: keep-alive`
  // (regression: it used to keep reading the stalled body until requestTimeout).
  it('a body that stalls: the connection is closed with the 503 (Connection: close), not kept for requestTimeout', async () => {
    const res = await sendRaw(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\na=1', { timeoutMs: 1800 });
    expect(res.status).toBe(503);
    expect(res.headers.connection?.[0]?.toLowerCase()).toBe('close');
    expect(res.timedOut, 'the server closed the connection').toBe(false);
  });

  it('1 000 clients that disconnect mid-body (url-encoded and multipart): no fd or memory leaked', async () => {
    let i = 0;
    await expectNoLeak('mid-body', 1000, () =>
      brokenClient(
        i++ % 2
          ? `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\na=${'x'.repeat(4000)}`
          : `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n--B\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n${'x'.repeat(4000)}`,
      ),
    );
  });

  it('1 000 clients that disconnect in the middle of their headers: no fd or memory leaked', async () => {
    await expectNoLeak('mid-headers', 1000, () => brokenClient(`GET /ping HTTP/1.1\r\nHost: x\r\nX-Long: ${'y'.repeat(2000)}`));
  });

  it('1 000 clients that disconnect in the middle of a large script output (256 KB): no fd or memory leaked', async () => {
    await expectNoLeak('mid-script-output', 1000, () => brokenClient(rawGet('/bigout').replace('Connection: close\r\n', ''), { untilData: true }));
  });

  // Known bug (issue 8 report): static.ts pipes fs.createReadStream into the response
  // with .pipe(); when the client goes away the read stream is unpiped but never
  // destroyed, so its file descriptor stays open for ever (one per aborted download).
  it('1 000 clients that disconnect in the middle of a large static file (8 MB): no fd or memory leaked', async () => {
    await expectNoLeak('mid-static-file', 1000, () => brokenClient(rawGet('/big.bin').replace('Connection: close\r\n', ''), { untilData: true }));
  });

  // Regression: even a 100-byte range leaks its descriptor when the client is gone before it was written.
  it('1 000 clients that ask for a range of the large file and go away at once: no fd leaked', async () => {
    await expectNoLeak('ranges', 1000, () => brokenClient(rawGet('/big.bin', { range: 'bytes=0-99' })), 50);
  });

  it('500 clients that go away at once from small (cached) static files and pages: no fd or memory leaked', async () => {
    let i = 0;
    await expectNoLeak('small files', 500, () => brokenClient(rawGet(i++ % 2 ? '/index.html' : '/ping', { range: 'bytes=0-3' })), 50);
  });

  it('1 000 development clients of the live-reload event stream that go away: no fd or memory leaked', async () => {
    const events = (): Promise<void> => brokenClient('GET /__karrigell/events?p=index.html HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n', { untilData: true, to: devPort });
    for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: 50 }, events)); // warm-up
    await expectNoLeak('live-reload clients', 1000, events);
  });
});
