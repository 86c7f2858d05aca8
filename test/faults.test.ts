/**
 * Issue 8 — a script's stray failure (a promise rejected with nobody
 * listening, a timer or a process.nextTick callback that throws, an
 * EventEmitter 'error' nobody handles) is logged with the script's name and
 * does not take the server down: other pages still answer (over HTTP, against
 * the CLI in a child process, so that the failures are really unhandled).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tempSite, sleep } from './helpers.js';
import { startChildServer, sendRaw, rawGet } from './attack-helpers.js';

const PAGES: Record<string, { source: string; marker: string; line: number }> = {
  reject: { source: `print('reject page answered');\nPromise.reject(new Error('stray-rejection-7c1'));\n`, marker: 'stray-rejection-7c1', line: 2 },
  timer: { source: `print('timer page answered');\nsetTimeout(() => {\n  throw new Error('stray-timer-3b9');\n}, 5);\n`, marker: 'stray-timer-3b9', line: 3 },
  late: { source: `print('late page answered');\nvoid (async () => {\n  await new Promise((r) => setTimeout(r, 20));\n  throw new Error('late-rejection-5d2');\n})();\n`, marker: 'late-rejection-5d2', line: 4 },
  tick: { source: `print('tick page answered');\nprocess.nextTick(() => {\n  throw new Error('tick-error-44e');\n});\n`, marker: 'tick-error-44e', line: 3 },
  emitter: { source: `import { EventEmitter } from 'node:events';\nprint('emitter page answered');\nconst e = new EventEmitter();\nsetTimeout(() => e.emit('error', new Error('emitter-error-91a')), 5);\n`, marker: 'emitter-error-91a', line: 4 },
  nonerror: { source: `print('nonerror page answered');\nPromise.reject('a plain string reason 6f0');\n`, marker: 'a plain string reason 6f0', line: 0 },
};

let server: Awaited<ReturnType<typeof startChildServer>>;

beforeAll(async () => {
  const files: Record<string, string> = { 'ping.ts': `RESPONSE.headers['content-type'] = 'text/plain';\nprint('pong');\n`, 'index.html': '<p>home</p>\n' };
  for (const [name, p] of Object.entries(PAGES)) files[`faults/${name}.ts`] = p.source;
  server = await startChildServer([tempSite(files), '--timeout', '5']);
}, 30_000);

afterAll(async () => {
  await server?.kill();
});

async function ping(): Promise<void> {
  const res = await sendRaw(server.port, rawGet('/ping'), { timeoutMs: 3000 });
  expect(res.status).toBe(200);
  expect(res.text).toBe('pong\n');
}

describe('stray failures of scripts', () => {
  it.each(Object.keys(PAGES))('%s: the page answers, the failure is logged with the script name, the server goes on', async (name) => {
    const page = PAGES[name]!;
    const res = await sendRaw(server.port, rawGet(`/faults/${name}`), { timeoutMs: 3000 });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`${name} page answered`);
    const logged = await waitForLog(page.marker);
    expect(logged, `stderr:\n${server.stderr()}`).toBe(true);
    const entry = logEntry(page.marker);
    if (page.line) expect(entry, 'the log names the script and its TypeScript line').toContain(`faults/${name}.ts:${page.line}`);
    expect(server.child.exitCode, 'the server process is alive').toBeNull();
    await ping();
  });

  it('many stray failures in a row: the server keeps answering every page', async () => {
    const names = Object.keys(PAGES);
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(names.map((n) => sendRaw(server.port, rawGet(`/faults/${n}`), { timeoutMs: 3000 })));
      expect(answers.map((a) => a.status)).toEqual(names.map(() => 200));
    }
    await sleep(100);
    expect(server.child.exitCode).toBeNull();
    await ping();
    expect((await sendRaw(server.port, rawGet('/index.html'))).status).toBe(200);
  });
});

async function waitForLog(marker: string, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (server.stderr().includes(marker)) return true;
    await sleep(20);
  }
  return false;
}

/** The log entry (a few lines up to and after the marker) of a stray failure. */
function logEntry(marker: string): string {
  const err = server.stderr();
  const at = err.indexOf(marker);
  const start = err.lastIndexOf('karrigell-ts:', at);
  return err.slice(Math.max(0, start), at + 400);
}
