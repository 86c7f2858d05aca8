/** `--log-format text|combined|json` (SPEC §1): the access log a log tool can read. */
import { describe, it, expect } from 'vitest';
import { rawRequest, runCli, spawnCli, tempSite } from './helpers.js';

const SITE = {
  'hello.ts': "print('<h1>Hello</h1>');\n",
  'crash.ts': "throw new Error('page crashed');\n",
  'a.txt': 'some text\n'.repeat(10),
  'big.txt': 'streamed and compressed\n'.repeat(20_000),
};

/** Runs the CLI with `args`, makes the requests, returns the access lines (those after the banner). */
async function linesOf(args: string[]): Promise<string[]> {
  const cli = await spawnCli(['serve', tempSite(SITE), '--port', '0', '--production', ...args]);
  try {
    await rawRequest(cli.url, '/hello?x=1', { headers: { referer: 'http://example.test/from', 'user-agent': 'test-agent "quoted"' } });
    await rawRequest(cli.url, '/a.txt', { method: 'HEAD' });
    await rawRequest(cli.url, '/nothing');
    await rawRequest(cli.url, '/crash');
    const big = await rawRequest(cli.url, '/big.txt', { headers: { 'accept-encoding': 'gzip' } });
    expect(big.headers['content-length']).toBeUndefined(); // streamed: the log counts the bytes
    await cli.waitFor(/big\.txt[^\n]*\n/);
    return cli.stdout().split('\n').slice(1).filter(Boolean);
  } finally {
    await cli.kill();
  }
}

describe('access log formats', () => {
  it('text is the default: method, URL, status, time', async () => {
    const lines = await linesOf([]);
    expect(lines[0]).toMatch(/^GET \/hello\?x=1 200 \d+\.\dms$/);
    expect(lines[2]).toMatch(/^GET \/nothing 404 /);
  });

  it('combined is Apache/nginx combined', async () => {
    const lines = await linesOf(['--log-format', 'combined']);
    const CLF = /^(\S+) - - \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] "([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$/;
    for (const line of lines) expect(line).toMatch(CLF);
    const [, host, , request, status, bytes, referer, agent] = CLF.exec(lines[0]!)!;
    expect(host).toBe('127.0.0.1');
    expect(request).toBe('GET /hello?x=1 HTTP/1.1');
    expect(status).toBe('200');
    expect(Number(bytes)).toBe('<h1>Hello</h1>\n'.length);
    expect(referer).toBe('http://example.test/from');
    expect(agent).toBe('test-agent \\x22quoted\\x22'); // a quote cannot end the field
    expect(CLF.exec(lines[1]!)![5]).toBe('-'); // HEAD: no body
    expect(CLF.exec(lines[2]!)![4]).toBe('404');
    expect(Number(CLF.exec(lines[4]!)![5])).toBeGreaterThan(100); // a streamed body, counted
  });

  it('json is one object a line with time, method, path, status, bytes, ms, and the request id of a failure', async () => {
    const lines = await linesOf(['--log-format', 'json']);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({ method: 'GET', path: '/hello?x=1', status: 200, bytes: 15 });
    expect(typeof entries[0]!.ms).toBe('number');
    expect(Number.isNaN(Date.parse(entries[0]!.time as string))).toBe(false);
    expect(entries[1]).toMatchObject({ method: 'HEAD', path: '/a.txt', status: 200, bytes: 0 });
    expect(entries[3]).toMatchObject({ path: '/crash', status: 500 });
    expect(entries[3]!.requestId).toMatch(/^[0-9a-f]{12}$/);
    expect(entries[0]!.requestId).toBeUndefined();
    expect(entries[4]!.bytes).toBeGreaterThan(100);
  });

  it('an unknown format is one line and exit 1', async () => {
    const r = await runCli(['serve', tempSite(SITE), '--port', '0', '--log-format', 'xml']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('karrigell-ts: --log-format: "xml" is not one of text, combined, json');
  });
});
