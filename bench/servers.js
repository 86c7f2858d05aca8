// What the bench scripts share: starting a server process and talking HTTP to it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Starts `node args` (under `wrapper`, e.g. valgrind, when given); resolves with
 * { name, url, proc } once it prints its URL.
 */
export function start(name, args, { env = {}, wrapper = [], timeoutMs = 30_000, stderr = 'inherit' } = {}) {
  return new Promise((resolve, reject) => {
    const [command, ...prefix] = [...wrapper, process.execPath];
    const proc = spawn(command, [...prefix, ...args], { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', stderr] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /https?:\/\/[\d.]+:\d+/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout.removeAllListeners('data');
        proc.stdout.resume();
        resolve({ name, url: m[0], proc });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
  });
}

/** One GET (on a fresh connection unless an agent is given): { status, headers, body }. */
export function get(url, headers = {}, agent = false) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** The `sessionId=…` cookie a first visit gets. */
export async function cookieOf(url) {
  const res = await get(url);
  const m = /sessionId=[^;]+/.exec((res.headers['set-cookie'] ?? []).join('\n'));
  if (!m) throw new Error(`no session cookie from ${url}`);
  return m[0];
}

/** `count` GETs, `concurrency` at a time, on keep-alive connections; each must answer 200. */
export async function load(url, count, concurrency, headers = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const res = await get(url, headers, agent);
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
}

/**
 * The process that serves: in production karrigell-ts runs a primary that keeps
 * the port and forks its worker (SPEC §8), so memory and instruction counts are
 * the worker's; any other server is its own process.
 */
export function servingPid(pid) {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length ? Number(children[0]) : pid;
  } catch {
    return pid;
  }
}
