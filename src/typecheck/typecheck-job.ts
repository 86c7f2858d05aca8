/**
 * The type banner's job on the TypeScript worker (syntax/ts-worker.ts loads
 * this module by its URL, inside the worker): keeps one site checker per root
 * (a TypeScript LanguageService, reused incrementally between checks) and
 * checks the file it is sent.
 * In: `{ root, file }` → the file's diagnostics; `{ root, drop: true }` frees
 * that root's checker (its program is most of the worker's heap).
 */
import { createSiteChecker, type SiteChecker, type TypeDiagnostic } from './typecheck.js';

const checkers = new Map<string, SiteChecker>();

export function run(input: { root: string; file?: string; drop?: boolean }): TypeDiagnostic[] {
  if (input.drop) {
    checkers.delete(input.root);
    return [];
  }
  let checker = checkers.get(input.root);
  if (!checker) checkers.set(input.root, (checker = createSiteChecker(input.root)));
  return checker.checkFile(input.file!);
}
