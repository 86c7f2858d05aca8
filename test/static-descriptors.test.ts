/**
 * No descriptor leak (issue 14): 200 connections with a small receive window,
 * each sending 2 pipelined GETs of a 3 MB static file and then closing, must
 * leave no descriptor on that file open. The client is Python (Node cannot set
 * SO_RCVBUF on a TCP socket); the server runs in this process, so its open
 * files are the links in /proc/self/fd.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startServer, tempSite, type Running } from './helpers.js';

const CONNECTIONS = 200;
const SIZE = 3 * 1024 * 1024;

const CLIENT = `
import socket, sys, time
host, port, path, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
req = ("GET %s HTTP/1.1\\r\\nHost: x\\r\\n%s\\r\\n" % (path, extra)).encode()
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall(req + req)
    socks.append(s)
for s in socks:
    s.settimeout(5)
    s.recv(1024)
time.sleep(0.5)
for s in socks:
    s.close()
`;

function runClient(url: string, urlPath: string, extra: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', CLIENT, hostname, port, urlPath, String(CONNECTIONS), extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`client failed: ${err}`))));
  });
}

/** Descriptors of this process open on `file`. */
function openOn(file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

/** Waits (bounded) until no descriptor is open on `file`; returns how many remain. */
async function settle(file: string, ms = 5000): Promise<number> {
  const until = Date.now() + ms;
  let n = openOn(file);
  while (n > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    n = openOn(file);
  }
  return n;
}

for (const production of [true, false]) {
  describe(`static file descriptors (${production ? 'production' : 'development'})`, () => {
    let server: Running;
    let root: string;
    beforeAll(async () => {
      // Random bytes (not compressible) and text (compressed as it streams when the client takes gzip).
      root = tempSite({ 'big.bin': randomBytes(SIZE), 'big.txt': Buffer.alloc(SIZE, 'karrigell static text\n') });
      root = fs.realpathSync(root);
      server = await startServer(root, { production });
    });
    afterAll(() => server.close());

    it('2 pipelined GETs of a 3 MB file on 200 slow connections that close leave no descriptor open', async () => {
      const file = path.join(root, 'big.bin');
      await runClient(server.url, '/big.bin', '');
      expect(await settle(file)).toBe(0);
    }, 60_000);

    it('the same with a file compressed as it streams (Accept-Encoding: gzip)', async () => {
      const file = path.join(root, 'big.txt');
      await runClient(server.url, '/big.txt', 'Accept-Encoding: gzip\\r\\n');
      expect(await settle(file)).toBe(0);
    }, 60_000);

    it('the server still answers afterwards', async () => {
      const res = await fetch(server.url + '/big.bin', { headers: { range: 'bytes=0-9' } });
      expect(res.status).toBe(206);
      expect((await res.arrayBuffer()).byteLength).toBe(10);
    });
  });
}
