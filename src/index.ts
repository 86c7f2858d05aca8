/** The public API of karrigell-ts. */
export { createServer, type RunningServer } from './server.js';
export { defaultOptions, type ServerOptions } from './options.js';
export { html, raw, escapeHtml, type RawHtml } from './html.js';
export { HTTP_REDIRECTION, HTTP_ERROR, SCRIPT_END, HttpError } from './script/signals.js';
export type { UploadedFile } from './script/context.js';
