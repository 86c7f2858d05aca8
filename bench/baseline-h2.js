// The bare node:http2 handlers the HTTPS/h2 figures are compared with: hello
// world over TLS with ALPN h2 and HTTP/1.1.
//   default: the compatibility API, `(req, res) => …`: what a node:http2 server
//     is written with (and what Express, Koa and fastify's HTTP/2 mode sit on);
//     the ratio of `npm run bench` is to this one;
//   --stream: the stream API, `server.on('stream', (stream, headers) => …)`,
//     Node's cheaper core API, which karrigell-ts itself uses for HTTP/2
//     streams (src/http/h2.ts): printed beside, for reference.
// Usage: node bench/baseline-h2.js PORT CERT KEY [--stream]
import http2 from 'node:http2';
import fs from 'node:fs';

const [port = '0', cert, key, mode] = process.argv.slice(2);
const server = http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), allowHTTP1: true }, (req, res) => {
  if (req.url.split('?', 1)[0] === '/hello') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<h1>Hello world</h1>\n');
  } else {
    res.writeHead(404);
    res.end();
  }
});
if (mode === '--stream') {
  // HTTP/1.1 (ALPN fallback) keeps the handler above; HTTP/2 streams are answered here.
  server.removeAllListeners('stream');
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (headers[':path'].split('?', 1)[0] === '/hello') {
      stream.respond({ ':status': 200, 'content-type': 'text/html; charset=utf-8' });
      stream.end('<h1>Hello world</h1>\n');
    } else {
      stream.respond({ ':status': 404 }, { endStream: true });
    }
  });
}
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`node:http2${mode === '--stream' ? ' (stream API)' : ''} baseline at https://127.0.0.1:${server.address().port}`);
});
