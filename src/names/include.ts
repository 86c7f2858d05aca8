/** Include(path, names?) (SPEC §4): another script's output, or a file's text, at this point of the output. */
import fs from 'node:fs';
import path from 'node:path';
import { isScriptFile } from '../site.js';
import { createScope } from '../script/scope.js';
import { runInRequest } from '../script/request-names.js';
import type { OutputSlot, PageContext } from '../script/context.js';
import { fieldsOf } from '../script/query.js';
import { ScriptEnd } from '../script/signals.js';
import { relative } from '../script/errors.js';
import type { ModuleRegistry } from '../script/modules.js';
import { collectOutput } from '../script/page.js';

const CHAIN = Symbol.for('karrigell-ts.includeChain');
const MAX_DEPTH = 32;

/** The Include chain recorded on an error thrown by an included script (outermost first), for the error page. */
export function includeChainOf(err: unknown, root: string): string[] {
  const chain = (err as { [CHAIN]?: string[] } | null)?.[CHAIN];
  return chain ? chain.map((f) => relative(root, f)) : [];
}

function tag(err: unknown, chain: readonly string[]): void {
  if (typeof err === 'object' && err !== null && !(CHAIN in err)) {
    Object.defineProperty(err, CHAIN, { value: chain, enumerable: false });
  }
}

const noop = (): void => {};

/** The `Include` scope name. */
export function createInclude(registry: ModuleRegistry, root: string): (ctx: PageContext) => (target: string, names?: Record<string, unknown>) => Promise<void> {
  function locate(ctx: PageContext, target: string): string {
    if (typeof target !== 'string' || !target || target.includes('\0')) throw new TypeError(`Include: ${JSON.stringify(target)} is not a path`);
    const file = target.startsWith('/') ? path.join(root, target) : path.resolve(path.dirname(ctx.file), target);
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch {
      throw new Error(`Include: ${target} not found (looked for ${relative(root, file)})`);
    }
    if (!real.startsWith(root + path.sep)) throw new Error(`Include: ${target} is outside the site folder`);
    if (!fs.statSync(real).isFile()) throw new Error(`Include: ${target} is not a file`);
    return real;
  }

  async function run(ctx: PageContext, slot: OutputSlot, target: string, names: Record<string, unknown> | undefined): Promise<void> {
    const file = locate(ctx, target);
    ctx.deps?.add(file);
    if (!isScriptFile(file)) {
      slot.text = fs.readFileSync(file, 'utf8');
      return;
    }
    const chain = [...ctx.chain, ctx.file];
    if (chain.includes(file) || chain.length > MAX_DEPTH) {
      const cycle = [...chain, file].map((f) => relative(root, f)).join(' → ');
      throw new Error(`Include cycle: ${cycle}`);
    }
    const page = await registry.loadPage(file);
    if (ctx.deps) for (const dep of page.files) ctx.deps.add(dep);
    // One QUERY for the page and what it includes: made before the context is copied.
    fieldsOf(ctx);
    const child: PageContext = { ...ctx, file, out: [], pending: undefined, chain, names };
    try {
      const scope = createScope(child);
      const run = page.runWith(names ? Object.keys(names) : []);
      // The modules the included script calls see its request (its own output, its names).
      await (page.requestNames ? runInRequest(scope, () => run(scope)) : run(scope));
    } catch (err) {
      if (!(err instanceof ScriptEnd)) throw err;
    }
    slot.text = await collectOutput(child);
  }

  return (ctx) => (target, names) => {
    // The slot is taken now, so the output keeps its order even if the promise is not awaited.
    const slot: OutputSlot = { text: '' };
    ctx.out.push(slot);
    const done = run(ctx, slot, target, names).catch((err: unknown) => {
      tag(err, [...ctx.chain, ctx.file]);
      throw err;
    });
    (ctx.pending ??= []).push(done);
    done.catch(noop); // awaited by the page's end; never an unhandled rejection
    return done;
  };
}
