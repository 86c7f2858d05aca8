/**
 * Control flow a script can use to stop itself: HTTP_REDIRECTION, HTTP_ERROR,
 * SCRIPT_END. Each is callable (`HTTP_ERROR(404)` throws) or usable with
 * `throw new HTTP_ERROR(404)`.
 */
import { STATUS_CODES } from 'node:http';

/** Base of every "stop the script" signal; never reported as a script error. */
export class ScriptSignal extends Error {}

/** Thrown by HTTP_REDIRECTION. */
export class Redirection extends ScriptSignal {
  constructor(
    readonly location: string,
    readonly status: number,
  ) {
    super(`redirection to ${location}`);
  }
}

/** Thrown by HTTP_ERROR, and by the server for bad requests (400, 404, 413 …). */
export class HttpError extends ScriptSignal {
  constructor(
    readonly status: number,
    message?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? statusText(status));
  }
}

/** Thrown by SCRIPT_END: what was printed so far is sent. */
export class ScriptEnd extends ScriptSignal {}

/** The reason phrase of an HTTP status, e.g. 404 → "Not Found". */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

type Callable<A extends unknown[]> = {
  (...args: A): never;
  new (...args: A): ScriptSignal;
};

function callableSignal<A extends unknown[]>(make: (...args: A) => ScriptSignal, name: string): Callable<A> {
  const fn = function (this: unknown, ...args: A) {
    const signal = make(...args);
    if (new.target) return signal;
    throw signal;
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn as unknown as Callable<A>;
}

const REDIRECT_STATUSES = new Set([300, 301, 302, 303, 307, 308]);

/** HTTP_REDIRECTION(url, status = 302). */
export const HTTP_REDIRECTION = callableSignal<[url: string, status?: number]>((url, status = 302) => {
  if (!REDIRECT_STATUSES.has(status)) throw new TypeError(`HTTP_REDIRECTION: ${status} is not a redirection status (use 301, 302, 303, 307 or 308)`);
  const location = String(url);
  if (/[\r\n\0]/.test(location)) throw new TypeError('HTTP_REDIRECTION: the URL contains a control character (CR, LF or NUL)');
  // Other characters a header cannot carry (spaces, controls, non-ASCII) are percent-encoded.
  return new Redirection(location.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c)), status);
}, 'HTTP_REDIRECTION');

/** HTTP_ERROR(status, message?). */
export const HTTP_ERROR = callableSignal<[status: number, message?: string]>((status, message) => {
  if (!Number.isInteger(status) || status < 400 || status > 599) throw new TypeError(`HTTP_ERROR: ${status} is not an error status (400-599)`);
  return new HttpError(status, message);
}, 'HTTP_ERROR');

/** SCRIPT_END(): stops the script, the output so far is sent. */
export const SCRIPT_END = callableSignal<[]>(() => new ScriptEnd('SCRIPT_END'), 'SCRIPT_END');
