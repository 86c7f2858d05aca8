/** Which requests are a browser loading a page: the development extras (live-reload script, type banner) are for those only. */
import type { IncomingMessage } from 'node:http';

/** `Sec-Fetch-Dest` of requests that show a document. */
const NAVIGATION_DESTS = new Set(['document', 'iframe', 'frame', 'embed', 'object']);

/**
 * True for a browser loading a page (a navigation, a frame). A fragment
 * fetched by a page's script (fetch, XMLHttpRequest, htmx), curl or an API
 * client is not one: it gets exactly what production would send.
 * Browsers say `Sec-Fetch-Dest`; older ones ask for `text/html` when they navigate.
 */
export function showsPage(req: IncomingMessage): boolean {
  const dest = req.headers['sec-fetch-dest'];
  if (dest !== undefined) return NAVIGATION_DESTS.has(dest);
  return (req.headers.accept ?? '').includes('text/html');
}
