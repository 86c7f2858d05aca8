// The bare handler on Bun's and Deno's own servers (Bun.serve, Deno.serve): what
// karrigell-ts on that runtime is compared with in `npm run bench -- --runtime bun|deno`.
// The same workloads as baseline.js (node:http), with nothing but the runtime's server and a Map.
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import process from 'node:process';

const STATIC = new Uint8Array(Buffer.alloc(10 * 1024, 'karrigell '));
const sessions = new Map();
const MAX = 1000;
// --nosniff: every response also carries X-Content-Type-Options: nosniff, as every
// karrigell-ts response does (SPEC). Deno.serve has a fast path for a response whose
// only header is Content-Type; a second header costs it about 0.8 us a response.
const NOSNIFF = process.argv.includes('--nosniff') ? { 'x-content-type-options': 'nosniff' } : {};
const HTML = { 'content-type': 'text/html; charset=utf-8', ...NOSNIFF };
const BINARY = { 'content-type': 'application/octet-stream', ...NOSNIFF };

function sessionOf(request) {
  const m = /(?:^|;\s*)sessionId=([^;]+)/.exec(request.headers.get('cookie') ?? '');
  return m ? sessions.get(m[1]) : undefined;
}

function handler(request) {
  const url = request.url;
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const q = url.indexOf('?', start);
  const path = q < 0 ? url.slice(start) : url.slice(start, q);
  if (path === '/hello') return new Response('<h1>Hello world</h1>\n', { headers: HTML });
  if (path === '/static.bin') return new Response(STATIC, { headers: BINARY });
  if (path === '/counter' || path === '/new-session') {
    let so = path === '/counter' ? sessionOf(request) : undefined;
    const headers = { ...HTML };
    if (!so) {
      const id = randomBytes(16).toString('base64url');
      if (sessions.size >= MAX) sessions.delete(sessions.keys().next().value);
      so = {};
      sessions.set(id, so);
      headers['set-cookie'] = `sessionId=${id}; Path=/; HttpOnly; SameSite=Lax`;
    }
    so.visits = (so.visits ?? 0) + 1;
    return new Response(`<p>visit number ${so.visits}</p>\n`, { headers });
  }
  return new Response(null, { status: 404, headers: NOSNIFF });
}

const port = Number(process.argv[2] ?? 0);
if (globalThis.Bun) {
  const server = globalThis.Bun.serve({ port, hostname: '127.0.0.1', fetch: handler });
  process.stdout.write(`listening on http://127.0.0.1:${server.port}\n`);
} else {
  const server = globalThis.Deno.serve({ port, hostname: '127.0.0.1', onListen() {} }, handler);
  process.stdout.write(`listening on http://127.0.0.1:${server.addr.port}\n`);
}
