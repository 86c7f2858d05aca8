/**
 * The config file (SPEC §1): ./karrigell.config.json or --config FILE, keys
 * are the long option names in camelCase, the command line wins, an unknown
 * key or a bad value is one line on stderr and exit 1.
 */
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tempSite, rawRequest, CLI } from './helpers.js';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Runs the CLI in `cwd`; resolves with its banner (once serving) or its exit. */
function serveIn(cwd: string, args: string[], ms = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, env: { ...process.env, NODE_ENV: '', PORT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ code: null, stdout, stderr }), ms);
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c;
      if (/serving/.test(stdout)) {
        clearTimeout(timer);
        resolve({ code: null, stdout, stderr });
      }
    });
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A site `www` in a fresh folder, with a config file beside it when given. */
function project(config?: unknown, name = 'karrigell.config.json'): string {
  const root = tempSite({ 'hello.ts': 'RESPONSE.headers["content-type"] = "text/plain";\nprint("hello");\n' });
  const dir = path.dirname(root);
  if (config !== undefined) fs.writeFileSync(path.join(dir, name), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const urlOf = (stdout: string): string => /https?:\/\/[^\s]+/.exec(stdout)![0];

describe('karrigell.config.json', () => {
  it('is read from the current folder: its options apply (port 0, listing, quiet, host)', async () => {
    const dir = project({ port: 0, host: '127.0.0.1', listing: true, quiet: true, bodyLimit: '10', sessionTtl: 60 });
    fs.mkdirSync(path.join(dir, 'www', 'sub'));
    fs.writeFileSync(path.join(dir, 'www', 'sub', 'a.txt'), 'a');
    const r = await serveIn(dir, ['www']);
    expect(r.stderr).toBe('');
    const url = urlOf(r.stdout);
    const listing = await rawRequest(url, '/sub/');
    expect(listing.status).toBe(200);
    expect(listing.text).toContain('a.txt');
    const big = await rawRequest(url, '/hello', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(50) });
    expect(big.status).toBe(413);
  });

  it('the command line wins over the file', async () => {
    const dir = project({ port: 1, host: '127.0.0.1', bodyLimit: '10' });
    const r = await serveIn(dir, ['www', '--port', '0', '--body-limit', '1mb', '--quiet']);
    const url = urlOf(r.stdout);
    expect(url).not.toMatch(/:1$/);
    const ok = await rawRequest(url, '/hello', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(50) });
    expect(ok.status).toBe(200);
  });

  it('--config FILE names another file; file names in it are relative to it', async () => {
    const dir = project();
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.writeFileSync(path.join(dir, 'conf', 'site.json'), JSON.stringify({ port: 0, quiet: true, tlsCert: 'missing-cert.pem', tlsKey: 'missing-key.pem' }));
    const r = await serveIn(dir, ['www', '--config', 'conf/site.json']);
    expect(r.code).toBe(1);
    // The path shown is the config folder's, not the current one's.
    expect(r.stderr.trim()).toBe(`karrigell-ts: --tls-cert: cannot read ${path.join(fs.realpathSync(dir), 'conf', 'missing-cert.pem')} (ENOENT)`);
  });
});

describe('errors: one line on stderr, exit 1', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown key', { port: 0, colour: 'blue' }, /^karrigell-ts: karrigell\.config\.json: unknown option "colour" \(known: port, host, .*sessionStore.*\)$/],
    ['a flag-style key', { 'session-store': 'memory' }, /^karrigell-ts: karrigell\.config\.json: unknown option "session-store"/],
    ['a bad number', { port: 'eighty' }, /^karrigell-ts: karrigell\.config\.json: "port": "eighty" is not a whole number$/],
    ['a port out of range', { port: 70000 }, /^karrigell-ts: karrigell\.config\.json: "port": 70000 is out of range/],
    ['a boolean that is not one', { production: 'yes' }, /^karrigell-ts: karrigell\.config\.json: "production" must be true or false, not "yes"$/],
    ['a bad size', { bodyLimit: '12 parsecs' }, /^karrigell-ts: karrigell\.config\.json: "bodyLimit": "12 parsecs" is not a size/],
    ['a bad session store', { sessionStore: 'mysql://x' }, /^karrigell-ts: karrigell\.config\.json: "sessionStore": "mysql:\/\/x" is neither "memory" nor a redis:\/\/ URL$/],
    ['an object value', { port: { n: 1 } }, /^karrigell-ts: karrigell\.config\.json: "port" must be a number, not \{"n":1\}$/],
    ['not JSON', '{ port: 8080 }', /^karrigell-ts: karrigell\.config\.json: not valid JSON \(/],
    ['not an object', '[1, 2]', /^karrigell-ts: karrigell\.config\.json: must be a JSON object of options/],
  ];
  for (const [what, config, re] of cases) {
    it(what, async () => {
      const r = await serveIn(project(config), ['www']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(re);
      expect(r.stdout).toBe('');
    });
  }

  it('a --config file that does not exist', async () => {
    const r = await serveIn(project(), ['www', '--config', 'nope.json']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('karrigell-ts: --config: cannot read nope.json (ENOENT)');
  });
});
