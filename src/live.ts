/** Live editing in development (SPEC §7): the file watcher and the browser's live reload. */
import type { ModuleRegistry } from './modules.js';
import type { ServerPlugins } from './server.js';
import type { Translations } from './translate.js';
import type { Logger } from './log.js';

export interface LiveDeps {
  root: string;
  registry: ModuleRegistry;
  plugins: ServerPlugins;
  /** Forgets cached path resolutions and static file contents for a file. */
  forget(file: string): void;
  translations: Translations;
  log: Logger;
}

/** Starts watching ROOT and serving the live-reload endpoint. */
export async function startLiveReload(deps: LiveDeps): Promise<{ close(): Promise<void> }> {
  void deps; // filled in by the live-editing work (issue 5)
  return { close: async () => {} };
}
