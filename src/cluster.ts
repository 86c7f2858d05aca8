/** --workers N: N processes sharing the port (node:cluster), a crashed worker replaced (SPEC §8). */
import type { ServerOptions } from './options.js';

/** Runs the primary process; resolves to an exit status when the cluster stops. */
export async function runCluster(options: ServerOptions): Promise<number | undefined> {
  throw new Error(`--workers ${options.workers}: not available yet`);
}
