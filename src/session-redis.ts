/** --session-store redis://…: sessions shared by every worker and machine (SPEC §5). */
import type { SessionBackend } from './session.js';
import type { Logger } from './log.js';

/** Opens the Redis session backend; rejects with an OptionError-like message when Redis cannot be used at all. */
export async function createRedisSessions(url: string, ttlSeconds: number, log: Logger): Promise<SessionBackend> {
  void ttlSeconds;
  void log;
  throw new Error(`--session-store ${url}: the Redis store is not available yet`);
}
