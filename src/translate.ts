/** _(text) and ROOT/_translations/LANG.json (SPEC §6). */
import type { PageContext } from './scope.js';

export interface Translations {
  /** The `_` of one request's scope. */
  extension(ctx: PageContext): (text: string) => string;
  /** Forgets a cached translation file (the watcher calls it when the file changes). */
  forget(file: string): void;
}

/** Translations of the site in `root`. */
export function createTranslations(root: string): Translations {
  void root; // filled in by the translations work (issue 4)
  return { extension: () => (text) => text, forget: () => {} };
}
