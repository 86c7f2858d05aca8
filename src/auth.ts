/** Authentication(), AUTH_USER and AUTH_PASSWORD (SPEC §4): HTTP Basic. */
import type { ScopeExtensions } from './scope.js';

/** The scope names of HTTP Basic authentication. */
export function authExtensions(): ScopeExtensions {
  return {}; // filled in by the authentication work (issue 4)
}
