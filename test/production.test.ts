// Issue 6 (single process): --production (precompile, fail-fast, plain 500 with a request id),
// --timeout (a synchronous loop and a hung await), graceful SIGTERM, --trust-proxy, stray failures.
import net from 'node:net';
import { describe, it, expect, afterAll } from 'vitest';
import { createServer } from '../dist/index.js';
import { tempSite, spawnCli, runCli, sleep } from './helpers.js';

const SITE = {
  'ok.ts': 'print("<p>ok</p>");\n',
  'fail.ts': 'interface A { b: number }\nconst a = JSON.parse("{}") as A;\nthrow new Error("secret detail " + a.b);\n',
  'spin.ts': 'let n = 0;\nwhile (true) { n++; }\n',
  'hang.ts': 'await new Promise(() => {});\nprint("never");\n',
  'busy.ts': 'const until = Date.now() + Number(QUERY.ms ?? 40);\nwhile (Date.now() < until) {}\nprint("done");\n',
  'wait.ts': 'await new Promise((r) => setTimeout(r, Number(QUERY.ms ?? 800)));\nprint("finished");\n',
  'who.ts': 'const so = Session();\nso.n = 1;\nconst h = REQUEST_HANDLER;\nprint(JSON.stringify({ ip: h.clientAddress, protocol: h.protocol, host: h.host }));\n',
  'stray.ts': 'setTimeout(() => { throw new Error("stray timer") }, 5);\nvoid Promise.reject(new Error("lost promise"));\nprint("fine");\n',
  '_lib/helper.ts': 'export const x: number = 1;\n',
};

const logs: string[] = [];
const log = { access() {}, info() {}, error: (m: string) => void logs.push(m) };
const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

// Production mode unless a test says otherwise: bodies are compared exactly (no live-reload script).
async function serve(root: string, options: Record<string, unknown> = {}) {
  const s = await createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true, ...options }, log);
  servers.push(s);
  return s;
}

describe('--production', () => {
  it('answers a script error with a plain 500 and a request id; the details go to the log under that id', async () => {
    const { url } = await serve(tempSite(SITE), { production: true });
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url + '/fail');
      const body = await res.text();
      expect(res.status).toBe(500);
      expect(body).not.toContain('secret detail');
      expect(body).not.toContain('fail.ts');
      expect(body).not.toMatch(/\bat\s/);
      const id = /Request id: ([0-9a-f]+)/.exec(body)?.[1];
      expect(id).toBeDefined();
      expect(res.headers.get('x-request-id')).toBe(id);
      ids.add(id!);
      const line = logs.find((l) => l.includes(`[${id}]`));
      expect(line).toContain('secret detail');
      expect(line).toContain('fail.ts:3:7');
    }
    expect(ids.size).toBe(3);
    expect((await fetch(url + '/ok')).status).toBe(200);
  });

  it('has no live-reload endpoint or injection', async () => {
    const { url } = await serve(tempSite(SITE), { production: true });
    const body = await (await fetch(url + '/ok')).text();
    expect(body).toBe('<p>ok</p>\n');
  });

  it('refuses to start when scripts are broken, listing every failing file with line and message', async () => {
    const root = tempSite({ ...SITE, 'bad1.ts': 'const x = ;\n', 'sub/bad2.tsx': 'const y = <div>;\n', '_lib/bad3.ts': 'export const = 1;\n' });
    await expect(createServer({ root, port: 0, host: '127.0.0.1', quiet: true, production: true }, log)).rejects.toThrow(
      /3 scripts failed to compile:\n {2}_lib\/bad3\.ts:1:\d+: .+\n {2}bad1\.ts:1:11: .+\n {2}sub\/bad2\.tsx:\d+:\d+: .+/,
    );
    const cli = await runCli(['serve', root, '--production', '--port', '0']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('bad1.ts:1:11');
    expect(cli.stderr).toContain('sub/bad2.tsx');
    expect(cli.stderr).not.toContain('    at ');
    expect(cli.stdout).not.toContain('serving');
  });

  it('NODE_ENV=production means --production', async () => {
    const cli = await spawnCli(['serve', tempSite(SITE), '--port', '0', '--quiet'], { NODE_ENV: 'production' });
    try {
      expect(cli.stdout()).toContain('(production)');
      const body = await (await fetch(cli.url + '/fail')).text();
      expect(body).toContain('Request id');
      expect(body).not.toContain('secret detail');
    } finally {
      await cli.kill();
    }
  });
});

describe('--timeout', () => {
  it('stops a script stuck in a synchronous loop with 503, and the server goes on', async () => {
    const { url } = await serve(tempSite(SITE), { timeout: 0.5 });
    const started = Date.now();
    const stuck = fetch(url + '/spin');
    await sleep(100);
    const res = await stuck;
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await (await fetch(url + '/ok')).text()).toBe('<p>ok</p>\n');
    // Again: the watchdog keeps working after a first stop.
    expect((await fetch(url + '/spin')).status).toBe(503);
    expect((await fetch(url + '/ok')).status).toBe(200);
    expect(logs.some((l) => l.includes('spin.ts stopped after 0.5 s'))).toBe(true);
  });

  it('answers the stopped loop with 503 and then the requests that queued up behind it', async () => {
    // A server of its own process: these requests reach it while the loop holds its thread.
    const cli = await spawnCli(['serve', tempSite(SITE), '--port', '0', '--quiet', '--production', '--timeout', '0.5']);
    try {
      const stuck = fetch(cli.url + '/spin');
      await sleep(150);
      const queued = Array.from({ length: 8 }, () => fetch(cli.url + '/ok').then((r) => r.text()));
      expect((await stuck).status).toBe(503);
      expect(await Promise.all(queued)).toEqual(Array(8).fill('<p>ok</p>\n'));
      // A later loop is stopped too: nothing was left half-counted.
      expect((await fetch(cli.url + '/spin')).status).toBe(503);
      expect(cli.stderr()).toContain('spin.ts stopped after 0.5 s');
    } finally {
      await cli.kill();
    }
  });

  it('never stops quick pages that only add up to more than the timeout in one turn of the event loop', async () => {
    // Timers (the heartbeat) do not run while a batch of ready sockets is served: 1 page of
    // 300 ms and 12 of 60 ms, all ready at once, hold the thread for over 1 s with --timeout 0.5.
    const cli = await spawnCli(['serve', tempSite(SITE), '--port', '0', '--quiet', '--production', '--timeout', '0.5']);
    try {
      const port = Number(new URL(cli.url).port);
      const sockets = await Promise.all(Array.from({ length: 13 }, () => new Promise<net.Socket>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
      })));
      const statuses = sockets.map((s) => new Promise<string>((resolve) => {
        let text = '';
        s.setEncoding('latin1');
        s.on('data', (d: string) => {
          text += d;
          if (text.includes('\r\n\r\n')) resolve(text.slice(9, 12));
        });
        s.on('close', () => resolve(text.slice(9, 12) || 'closed'));
      }));
      sockets[0]!.write('GET /busy?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(50);
      for (const s of sockets.slice(1)) s.write('GET /busy?ms=60 HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await Promise.all(statuses)).toEqual(Array(13).fill('200'));
      for (const s of sockets) s.destroy();
      expect(cli.stderr()).not.toContain('stopped after');
    } finally {
      await cli.kill();
    }
  });

  it('answers 503 for a script waiting forever while other requests are served', async () => {
    const { url } = await serve(tempSite(SITE), { timeout: 0.5 });
    const hung = fetch(url + '/hang');
    const ok = await fetch(url + '/ok');
    expect(ok.status).toBe(200);
    expect((await hung).status).toBe(503);
  });

  it('--timeout 0 never stops a script', async () => {
    const { url } = await serve(tempSite(SITE), { timeout: 0 });
    const res = await fetch(url + '/wait?ms=300');
    expect(await res.text()).toBe('finished\n');
  });
});

describe('graceful stop', () => {
  it('SIGTERM: stops accepting, lets the running request finish, exits 0', async () => {
    const cli = await spawnCli(['serve', tempSite(SITE), '--port', '0', '--quiet']);
    const running = fetch(cli.url + '/wait?ms=800').then((r) => r.text());
    await sleep(200);
    const exited = new Promise<number | null>((resolve) => cli.child.once('exit', (code) => resolve(code)));
    cli.child.kill('SIGTERM');
    await sleep(100);
    await expect(fetch(cli.url + '/ok')).rejects.toThrow();
    expect(await running).toBe('finished\n');
    expect(await exited).toBe(0);
  });
});

describe('--trust-proxy', () => {
  const headers = { 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.org' };

  it('takes address, protocol and host from X-Forwarded-*, and the session cookie gets Secure', async () => {
    const { url } = await serve(tempSite(SITE), { trustProxy: true });
    const res = await fetch(url + '/who', { headers });
    expect(JSON.parse(await res.text())).toEqual({ ip: '203.0.113.9', protocol: 'https', host: 'example.org' });
    expect(res.headers.get('set-cookie')).toMatch(/sessionId=[^;]+;.*Secure/);
  });

  it('ignores X-Forwarded-* without the flag', async () => {
    const { url } = await serve(tempSite(SITE));
    const res = await fetch(url + '/who', { headers });
    const who = JSON.parse(await res.text());
    expect(who.ip).toBe('127.0.0.1');
    expect(who.protocol).toBe('http');
    expect(res.headers.get('set-cookie')).not.toContain('Secure');
  });
});

describe('stray failures', () => {
  it('an unhandled rejection or a throwing timer of a script is logged with its location, the server goes on', async () => {
    const { url } = await serve(tempSite(SITE));
    expect(await (await fetch(url + '/stray')).text()).toBe('fine\n');
    await sleep(100);
    expect(logs.some((l) => l.includes('unhandled promise rejection in stray.ts:2') && l.includes('lost promise'))).toBe(true);
    expect(logs.some((l) => l.includes('uncaught exception in stray.ts:1') && l.includes('stray timer'))).toBe(true);
    expect((await fetch(url + '/ok')).status).toBe(200);
  });
});
