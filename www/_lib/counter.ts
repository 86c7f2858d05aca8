// Module state lives as long as the module: shared by every request.
let hits = 0;

/** Counts calls since the module was (re)loaded. */
export function hit(): number {
  return ++hits;
}
