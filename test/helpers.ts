/**
 * Shared helpers of the foundation tests: a real server on a free port, temp
 * sites written per test file, raw HTTP requests (no URL normalisation) and the CLI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(PROJECT, 'bin', 'karrigell-ts.js');

export interface Running {
  url: string;
  close(): Promise<void>;
}

/** Starts createServer (from dist/) on 127.0.0.1, a free port, no access log. */
export async function startServer(root: string, options: Record<string, unknown> = {}): Promise<Running> {
  const mod = (await import(path.join(PROJECT, 'dist', 'index.js'))) as {
    createServer(o: Record<string, unknown>): Promise<{ url: string; close(graceMs?: number): Promise<void> }>;
  };
  const running = await mod.createServer({ root, port: 0, host: '127.0.0.1', quiet: true, ...options });
  return { url: running.url, close: () => running.close(500) };
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
});

/**
 * Writes `files` (relative path → content) into `PARENT/www` where PARENT is a
 * fresh temp folder, and returns the path of `www` (the ROOT). PARENT is free
 * for files that must stay outside ROOT (see `outside`).
 */
export function tempSite(files: Record<string, string | Buffer>): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-test-'));
  made.push(parent);
  const root = path.join(parent, 'www');
  fs.mkdirSync(root);
  writeFiles(root, files);
  return root;
}

/** Writes files under `dir` (creating folders). */
export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

/** The folder that holds a temp ROOT made by tempSite (outside ROOT). */
export function outside(root: string): string {
  return path.dirname(root);
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Body sent in these pieces with chunked transfer encoding (no Content-Length). */
  chunks?: (string | Buffer)[];
}

/**
 * Sends `rawPath` exactly as given (node:http does not normalise `..` or
 * percent-escapes, unlike fetch) and collects the answer.
 */
export function rawRequest(base: string, rawPath: string, opts: RawOptions = {}): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { connection: 'close', ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    if (opts.chunks) headers['transfer-encoding'] = 'chunked';
    const req = http.request(
      { host: u.hostname, port: Number(u.port), path: rawPath, method: opts.method ?? 'GET', headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const body = Buffer.concat(parts);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}

/** A multipart/form-data body built by hand (so tests control every byte). */
export function multipart(parts: { name: string; value?: string; filename?: string; type?: string; data?: Buffer }[], boundary = '----kts' + Math.random().toString(16).slice(2)): { body: Buffer; type: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'application/octet-stream'}`;
    head += '\r\n\r\n';
    chunks.push(Buffer.from(head), p.data ?? Buffer.from(p.value ?? ''), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

export interface CliProcess {
  url: string;
  child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  kill(): Promise<void>;
}

/** The runtimes the product runs on (SPEC §11). */
export type RuntimeName = 'node' | 'bun' | 'deno';

/**
 * The runtime that CLI tests start the product with: `KTS_RUNTIME=bun|deno`
 * (the binary from `KTS_BUN`/`KTS_DENO`, else from the PATH), else this Node.
 */
export function cliRuntime(): RuntimeName {
  const name = process.env.KTS_RUNTIME || 'node';
  if (name !== 'node' && name !== 'bun' && name !== 'deno') throw new Error(`KTS_RUNTIME=${name}: expected node, bun or deno`);
  return name;
}

/** The path of a runtime's binary, or undefined when it is not installed. */
export function runtimeBinary(name: RuntimeName): string | undefined {
  if (name === 'node') return process.execPath;
  const fromEnv = process.env[name === 'bun' ? 'KTS_BUN' : 'KTS_DENO'];
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, name);
    if (dir && fs.existsSync(file)) return file;
  }
  return undefined;
}

/** The command that runs the CLI on a runtime: `[binary, ...arguments before the CLI's own]`. */
export function cliCommand(name: RuntimeName = cliRuntime()): [string, string[]] {
  const bin = runtimeBinary(name);
  if (!bin) throw new Error(`${name} is not installed (set KTS_${name.toUpperCase()} to its binary)`);
  return [bin, name === 'deno' ? ['run', '-A', CLI] : [CLI]];
}

/** Spawns `node bin/karrigell-ts.js ...args` (or Bun, Deno: cliRuntime); resolves once the banner with the URL is on stdout. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, runtime: RuntimeName = cliRuntime()): Promise<CliProcess> {
  const [bin, pre] = cliCommand(runtime);
  const child = spawn(bin, [...pre, ...args], { cwd: PROJECT, env: { ...process.env, NODE_ENV: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const notify = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    notify();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitFor = (re: RegExp, ms = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} on stdout; stdout: ${JSON.stringify(out)} stderr: ${JSON.stringify(err)}`)), ms);
      const check = (): void => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        } else waiters.push(check);
      };
      check();
    });
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // A primary (--workers, or Bun and Deno) stops its workers on SIGTERM; SIGKILL would leave them behind.
    const hard = setTimeout(() => child.kill('SIGKILL'), runtime === 'node' && !args.includes('--workers') ? 0 : 3000);
    child.kill(runtime === 'node' && !args.includes('--workers') ? 'SIGKILL' : 'SIGTERM');
    await exited;
    clearTimeout(hard);
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before its banner; stdout: ${JSON.stringify(out)} stderr: ${JSON.stringify(err)}`)));
    waitFor(/https?:\/\/[^\s)]+/).then(
      (url) => resolve({ url: url.replace(/\/$/, ''), child, stdout: () => out, stderr: () => err, waitFor, kill }),
      async (e) => {
        await kill();
        reject(e);
      },
    );
  });
}

/** Runs the CLI to its end (or kills it after `ms`). */
export function runCli(args: string[], ms = 10_000, env: NodeJS.ProcessEnv = {}, runtime: RuntimeName = cliRuntime()): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const [bin, pre] = cliCommand(runtime);
  const child = spawn(bin, [...pre, ...args], { cwd: PROJECT, env: { ...process.env, NODE_ENV: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, ms);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
