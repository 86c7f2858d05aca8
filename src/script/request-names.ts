/**
 * The names of SPEC §4 in a site's own modules (`_lib/user.ts` may call
 * `Session()`, read `QUERY`, `print` …): there they mean the request being
 * served by the page that called the module's function, also after an
 * `await`.
 *
 * A page gets its names as bindings of its per-request function (compile.ts).
 * A module is evaluated once, so its names cannot be bindings: the compiler
 * rewrites each free use of a name in a module into a property of
 * `MODULE_NAMES` (esbuild's `define`: `QUERY.x` → `__kts_r.QUERY.x`), whose
 * getters read the scope of the request in progress from an AsyncLocalStorage.
 * A page runs inside that storage only when some module of the registry uses
 * the names, so a site whose modules never use them pays nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isShortcutName, SCOPE_NAMES } from '../scope-names.js';
import { REQUEST_INDEPENDENT } from './scope.js';

const current = new AsyncLocalStorage<Record<string, unknown>>();

/** Runs `fn` (a page, an included script, a service) with `scope` as the request modules see. */
export function runInRequest<T>(scope: Record<string, unknown>, fn: () => T): T {
  return current.run(scope, fn);
}

/**
 * Runs `fn` outside any request: a module's top level (evaluated once, maybe
 * while an `Include` is being served) must not capture that request's names.
 */
export function outsideAnyRequest<T>(fn: () => T): T {
  return current.exit(fn);
}

/** The error of a request name used while no request is served. */
function outsideRequest(name: string): Error {
  const err = new Error(
    `${name} was used while no request is being served: in a module, the names of a page's scope (QUERY, Session(), print …) ` +
      `mean the request of the page that called the module's function, so use them inside a function that a page calls, ` +
      `not at the module's top level (it runs once, when the module is loaded) nor in a timer or callback started there.`,
  );
  err.name = 'OutsideRequestError';
  return err;
}

/** The error of a request name used by a callback that outlived its request (a timer started by a page's call). */
function afterRequest(name: string): Error {
  const err = new Error(
    `${name} was used after its request was answered: a timer or callback started while serving a request ran later, ` +
      `when that request's answer had already been sent, so there is nothing left for ${name} to read or write.`,
  );
  err.name = 'OutsideRequestError';
  return err;
}

function scopeFor(name: string): Record<string, unknown> {
  const scope = current.getStore();
  if (!scope) throw outsideRequest(name);
  // The storage follows every callback started during the request, also those that outlive it.
  if ((scope as { c?: { res?: { writableEnded?: boolean } } }).c?.res?.writableEnded) throw afterRequest(name);
  return scope;
}

/** `_name` in a module: `QUERY.name` of the current request. */
const SHORTCUTS = new Proxy(Object.create(null) as Record<string, unknown>, {
  get(_target, key) {
    if (typeof key !== 'string') return undefined;
    return (scopeFor(key).QUERY as Record<string, unknown>)[key.slice(1)];
  },
});

/** The object the compiled code of a module reads its scope names from (`__kts_r`). */
export const MODULE_NAMES: Readonly<Record<string, unknown>> = Object.create(null, {
  ...Object.fromEntries(
    SCOPE_NAMES.map((name) => {
      const constant = (REQUEST_INDEPENDENT as Record<string, unknown>)[name];
      // html, raw, HTTP_ERROR …: the same for every request, usable anywhere (also at a module's top level).
      const get =
        constant !== undefined
          ? () => constant
          : () => {
              return scopeFor(name)[name];
            };
      return [name, { get, enumerable: true }];
    }),
  ),
  __q: { value: SHORTCUTS },
}) as Readonly<Record<string, unknown>>;

/** The `define` of esbuild for a module: each scope name → its property of MODULE_NAMES. */
export const MODULE_DEFINES: Readonly<Record<string, string>> = Object.fromEntries(SCOPE_NAMES.map((name) => [name, `__kts_r.${name}`]));

/** The define of a `_name` shortcut (`_name` → `__kts_r.__q._name`), or undefined when it cannot be one. */
export function shortcutDefine(name: string): string | undefined {
  return isShortcutName(name) ? `__kts_r.__q.${name}` : undefined;
}
