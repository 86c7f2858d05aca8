// The bare node:http2 handler the HTTPS/h2 figures are compared with: hello
// world over TLS with ALPN h2 and HTTP/1.1, the compatibility API (as karrigell-ts).
// Usage: node bench/baseline-h2.js PORT CERT KEY
import http2 from 'node:http2';
import fs from 'node:fs';

const [port = '0', cert, key] = process.argv.slice(2);
const server = http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), allowHTTP1: true }, (req, res) => {
  if (req.url.split('?', 1)[0] === '/hello') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<h1>Hello world</h1>\n');
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`node:http2 baseline at https://127.0.0.1:${server.address().port}`);
});
