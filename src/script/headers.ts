/** RESPONSE.headers: a plain-looking object whose header names are case-insensitive. */

import { validateHeaderName, validateHeaderValue } from 'node:http';

/** Throws, at the script's own line, for a header Node would refuse (CR/LF/NUL, control or non-Latin-1 characters, a bad name). */
export function checkHeader(name: string, value: string): void {
  try {
    validateHeaderName(name);
  } catch {
    throw new TypeError(`RESPONSE.headers: invalid header name ${JSON.stringify(name)}`);
  }
  if (/[\r\n\0]/.test(value)) throw new TypeError(`RESPONSE.headers[${JSON.stringify(name)}]: the value contains CR, LF or NUL`);
  try {
    validateHeaderValue(name, value);
  } catch {
    throw new TypeError(`RESPONSE.headers[${JSON.stringify(name)}]: the value contains a character not allowed in a header: ${JSON.stringify(value)}`);
  }
}

/** Creates the header bag: values stored under lower-case names. */
export function createHeaderBag(initial: Record<string, string>): Record<string, string> {
  const store: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, initial);
  const key = (p: string | symbol): string | symbol => (typeof p === 'string' ? p.toLowerCase() : p);
  const put = (t: Record<string, string>, p: string | symbol, v: unknown): boolean => {
    if (typeof p !== 'string') return false;
    const value = String(v);
    checkHeader(p, value);
    t[p.toLowerCase()] = value;
    return true;
  };
  return new Proxy(store, {
    get: (t, p) => (typeof p === 'string' ? t[p.toLowerCase()] : undefined),
    set: (t, p, v) => put(t, p, v),
    has: (t, p) => key(p) in t,
    deleteProperty: (t, p) => delete t[key(p) as string],
    getOwnPropertyDescriptor: (t, p) => Object.getOwnPropertyDescriptor(t, key(p)),
    defineProperty: (t, p, d) => 'value' in d && put(t, p, d.value),
  });
}
