/**
 * TLS for `--tls-cert/--tls-key` and `--https` (SPEC §1, §10): the PEM files
 * read and checked at start (one clear line when they are wrong), and the
 * development certificate for localhost, made on first use and kept in a
 * cache folder.
 *
 * The development certificate is built here with node:crypto (an EC P-256
 * key, a self-signed X.509 v3 certificate written in DER by hand): Node can
 * make keys and sign but has no certificate builder, and neither an openssl
 * binary (absent on Windows) nor a dependency is worth ~60 lines.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { OptionError } from './options.js';
import { cacheFolder } from './cache.js';

export interface TlsFiles {
  key: Buffer;
  cert: Buffer;
}

/** The key and certificate the server needs, or undefined for plain HTTP. Throws OptionError. */
export function loadTls(o: { tlsCert?: string; tlsKey?: string; https?: boolean }, env: NodeJS.ProcessEnv = process.env): TlsFiles | undefined {
  if (o.tlsCert === undefined && o.tlsKey === undefined) return o.https ? devCertificate(env) : undefined;
  if (o.tlsCert === undefined || o.tlsKey === undefined) throw new OptionError(`${o.tlsCert === undefined ? '--tls-key' : '--tls-cert'} needs ${o.tlsCert === undefined ? '--tls-cert' : '--tls-key'} too`);
  const read = (file: string, option: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new OptionError(`${option}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const files = { cert: read(o.tlsCert, '--tls-cert'), key: read(o.tlsKey, '--tls-key') };
  try {
    tls.createSecureContext(files);
  } catch (err) {
    // OpenSSL's own words ("key values mismatch", "no start line") name the fault well enough.
    throw new OptionError(`--tls-cert/--tls-key: ${o.tlsCert} and ${o.tlsKey} are not a PEM certificate and its key (${(err as Error).message})`);
  }
  return files;
}

/**
 * For a primary before it forks its workers: makes (or finds) the kept `--https` certificate and
 * names its files as --tls-cert/--tls-key, so that every worker serves the same one.
 */
export function settleDevCertificate<T extends { tlsCert?: string; tlsKey?: string; https?: boolean }>(o: T, env: NodeJS.ProcessEnv = process.env): T {
  if (!o.https || o.tlsCert !== undefined || o.tlsKey !== undefined) return o;
  devCertificate(env);
  const { certFile, keyFile } = devCertificateFiles(env);
  const files = { tlsCert: certFile, tlsKey: keyFile };
  // Not kept (an unwritable cache): each worker makes its own.
  return fs.existsSync(files.tlsCert) && fs.existsSync(files.tlsKey) ? { ...o, ...files } : o;
}

/** Where the `--https` certificate is kept: the cache folder. */
function devCertificateFiles(env: NodeJS.ProcessEnv): { certFile: string; keyFile: string } {
  const dir = cacheFolder(env);
  return { certFile: path.join(dir, 'localhost-cert.pem'), keyFile: path.join(dir, 'localhost-key.pem') };
}

/** The localhost certificate of `--https`: the kept one while it is valid for another day, else a new one. */
function devCertificate(env: NodeJS.ProcessEnv): TlsFiles {
  const { certFile, keyFile } = devCertificateFiles(env);
  try {
    const kept = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
    if (Date.parse(new crypto.X509Certificate(kept.cert).validTo) > Date.now() + 86_400_000) return kept;
  } catch {
    // None yet, or unreadable: make one.
  }
  const made = selfSignedCertificate(['localhost'], ['127.0.0.1', '::1']);
  try {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true });
    fs.writeFileSync(keyFile, made.key, { mode: 0o600 });
    fs.writeFileSync(certFile, made.cert);
  } catch (err) {
    // Not kept: this start still works, the next one makes another.
    process.stderr.write(`karrigell-ts: could not keep the development certificate in ${path.dirname(keyFile)} (${(err as Error).message})\n`);
  }
  return made;
}

// --- DER, just what a certificate needs (X.690) ---
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...c: Buffer[]): Buffer => der(0x30, ...c);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const sub = [v & 0x7f];
    for (let x = v >>> 7; x; x >>>= 7) sub.unshift((x & 0x7f) | 0x80);
    bytes.push(...sub);
  }
  return der(0x06, Buffer.from(bytes));
}
function utcTime(d: Date): Buffer {
  return der(0x17, Buffer.from(d.toISOString().replace(/^\d\d|[-:T]|\.\d+/g, ''), 'ascii'));
}
function ipBytes(ip: string): Buffer {
  if (!ip.includes(':')) return Buffer.from(ip.split('.').map(Number));
  const [head, tail = ''] = ip.split('::');
  const words = (s: string): number[] => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head!);
  const t = words(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Buffer.from(all.flatMap((w) => [w >> 8, w & 0xff]));
}

/** A self-signed certificate (a year, EC P-256, ECDSA-SHA256) for the given names and addresses, as PEM. */
export function selfSignedCertificate(names: string[], ips: string[], days = 365): TlsFiles {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(names[0] ?? 'localhost')))));
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, no leading zero
  const now = Date.now();
  const altNames = seq(...names.map((n) => der(0x82, Buffer.from(n, 'ascii'))), ...ips.map((ip) => der(0x87, ipBytes(ip))));
  const extensions = der(
    0xa3,
    seq(
      seq(oid('2.5.29.17'), der(0x04, altNames)), // subjectAltName
      seq(oid('2.5.29.37'), der(0x04, seq(oid('1.3.6.1.5.5.7.3.1')))), // extKeyUsage: serverAuth
      seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq())), // basicConstraints (critical): not a CA
    ),
  );
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, serial),
    ecdsaSha256,
    name,
    seq(utcTime(new Date(now - 60_000)), utcTime(new Date(now + days * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = crypto.sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = seq(tbs, ecdsaSha256, der(0x03, Buffer.from([0]), signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  return { key: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), cert: Buffer.from(pem) };
}
