// The bare node:http handler every karrigell-ts figure is compared with:
// the same workloads with nothing but node:http and a Map.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const STATIC = Buffer.alloc(10 * 1024, 'karrigell ');
const PAGE10K = (() => {
  const rows = [];
  for (let i = 0; i < 200; i++) rows.push('<tr><td>' + i + '</td><td>item ' + i + '</td><td>' + (i * 1.25).toFixed(2) + '</td></tr>');
  return '<table>' + rows.join('') + '</table>\n';
})();
const sessions = new Map();
const MAX = 1000;

function sessionOf(req) {
  const m = /(?:^|;\s*)sessionId=([^;]+)/.exec(req.headers.cookie ?? '');
  return m ? sessions.get(m[1]) : undefined;
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  if (path === '/hello') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<h1>Hello world</h1>\n');
  } else if (path === '/static.bin') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': STATIC.length });
    res.end(STATIC);
  } else if (path === '/static.txt') {
    // The same 10 KB as text, sent as it is: what the compressed rows are compared with.
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': STATIC.length });
    res.end(STATIC);
  } else if (path === '/page10k') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(PAGE10K) });
    res.end(PAGE10K);
  } else if (path === '/counter' || path === '/new-session') {
    let so = path === '/counter' ? sessionOf(req) : undefined;
    if (!so) {
      const id = randomBytes(16).toString('base64url');
      if (sessions.size >= MAX) sessions.delete(sessions.keys().next().value);
      so = {};
      sessions.set(id, so);
      res.setHeader('set-cookie', `sessionId=${id}; Path=/; HttpOnly; SameSite=Lax`);
    }
    so.visits = (so.visits ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<p>visit number ${so.visits}</p>\n`);
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
