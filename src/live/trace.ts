/**
 * Timings of live editing's path (write → watcher → stream → page fetch →
 * answer), published on the diagnostics channel `karrigell-ts:live` for
 * `npm run bench:live` (LIVE_TRACE=1) to find where the time goes. Nothing is
 * built or published while nobody subscribes.
 */
import diagnostics_channel from 'node:diagnostics_channel';

export const TRACE_CHANNEL = 'karrigell-ts:live';
const channel = diagnostics_channel.channel(TRACE_CHANNEL);

/** A stage of the path reached now (epoch ms with fractions, the clock a browser's performance.timeOrigin + now() shares). */
export function trace(stage: string, file?: string): void {
  if (channel.hasSubscribers) channel.publish({ stage, file, at: performance.timeOrigin + performance.now() });
}

/** Whether anyone listens (a stage that costs something to note, a listener on a response, checks first). */
export function tracing(): boolean {
  return channel.hasSubscribers;
}
