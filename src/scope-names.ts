/**
 * The names in a script's scope (SPEC §4), in one table: the compiler binds
 * them, the runtime provides them (`script/scope.ts` for the request's own
 * names, the parts listed in `server.ts` for the others; `script/request-names.ts`
 * hands them to a site's modules), the type checker
 * knows them, and `types/globals.d.ts` declares them. A test checks that all
 * four agree. A leaf: imports nothing of ours.
 */

/** Who provides a name at run time. */
export type NameProvider = 'request' | 'session' | 'auth' | 'translate' | 'include' | 'internal';

/** Every name a page's code may use without declaring it, with its provider. */
export const SCOPE_NAME_TABLE = {
  QUERY: 'request',
  REQUEST: 'request',
  HEADERS: 'request',
  COOKIE: 'request',
  SET_COOKIE: 'request',
  RESPONSE: 'request',
  THIS: 'request',
  REQUEST_HANDLER: 'request',
  ACCEPTED_LANGUAGES: 'request',
  print: 'request',
  html: 'request',
  raw: 'request',
  HTTP_REDIRECTION: 'request',
  HTTP_ERROR: 'request',
  SCRIPT_END: 'request',
  Include: 'include',
  Session: 'session',
  Authentication: 'auth',
  AUTH_USER: 'auth',
  AUTH_PASSWORD: 'auth',
  _: 'translate',
  SET_LANGUAGE: 'translate',
  /** Used by the code generated from `.tsp` files: not for users, not declared. */
  __kts_out: 'internal',
  __kts_esc: 'internal',
  __kts_raw: 'internal',
  __kts_tag: 'internal',
} as const satisfies Record<string, NameProvider>;

export type ScopeName = keyof typeof SCOPE_NAME_TABLE;

/** The names, in table order. */
export const SCOPE_NAMES = Object.keys(SCOPE_NAME_TABLE) as ScopeName[];

/** A `_name` shortcut for a field of QUERY: `_` then at least one character, not `__…` (SPEC §4). */
export function isShortcutName(name: string): boolean {
  return name.length > 1 && name[0] === '_' && name[1] !== '_';
}

/** The names one provider owns. */
export function namesOf(provider: NameProvider): ScopeName[] {
  return SCOPE_NAMES.filter((name) => SCOPE_NAME_TABLE[name] === provider);
}
