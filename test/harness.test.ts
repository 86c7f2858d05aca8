/** The suite's own harness: a server error that a test did not declare fails that test (test/setup.ts). */
import { it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT } from './helpers.js';

it('a test whose server logs an unexpected error fails, naming the error', () => {
  const vitest = path.join(PROJECT, 'node_modules', 'vitest', 'vitest.mjs');
  const run = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/fixtures/vitest.config.ts'], { cwd: PROJECT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '' } });
  const out = run.stdout + run.stderr;
  expect(run.status, out).toBe(1);
  expect(out).toContain('the server logged errors this test file does not expect');
  expect(out).toMatch(/Error in GET \/boom at boom\.ts:1:7: unexpected boom/);
});
