/**
 * Every test file: a test fails when a server it started in this process wrote
 * to stderr (the server's error log) and the test file did not say it expects
 * it with `expectServerErrors(/pattern/)`. A script error nobody looked at is a
 * bug hidden by a green suite.
 */
import { afterEach, expect } from 'vitest';

const written: string[] = [];
// Node's own warnings (an experimental vm API used for dynamic import()) are not the server's errors.
const expected: RegExp[] = [/^\(node:\d+\) \w*Warning: /, /^\(Use `node --trace-warnings/];
const original = process.stderr.write.bind(process.stderr);

process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;

/** Declares, for the rest of this test file, server errors that its tests provoke on purpose. */
export function expectServerErrors(...patterns: RegExp[]): void {
  expected.push(...patterns);
}

afterEach(() => {
  const lines = written.splice(0).join('').split('\n').filter((l) => l.trim());
  // A report spans several lines (code frame, stack): the lines after its first belong to it.
  const unexpected: string[] = [];
  let current: boolean | undefined;
  for (const line of lines) {
    if (/^(?:\[[0-9a-f]{12}\] |karrigell-ts|Script )/.test(line) || current === undefined) {
      current = expected.some((p) => p.test(line));
      if (!current) unexpected.push(line);
    }
  }
  expect(unexpected, 'the server logged errors this test file does not expect (use expectServerErrors)').toEqual([]);
});
