/**
 * The production start's compiler process (precompile.ts forks it): compiles
 * a site's pages and private modules, one batch each (compile.ts
 * compileBatchOutputs), sends the outputs back and exits. So esbuild's API
 * and the `.tsx` pass's TypeScript never enter the serving process, whose
 * memory then holds only what serving needs (tens of MB less at its peak).
 * In: `{ pages, privates }` (absolute paths). Out: `{ pages, modules }` (CompiledOutput[]).
 */
import { compileBatchOutputs, releaseCompiler } from './compile.js';

process.once('message', (msg) => {
  void (async () => {
    const { pages, privates } = msg as { pages: string[]; privates: string[] };
    const [pageOutputs, moduleOutputs] = await Promise.all([compileBatchOutputs(pages, 'page'), compileBatchOutputs(privates, 'module')]);
    await releaseCompiler();
    // Disconnecting once the message is out lets the process end (nothing else holds it open).
    process.send!({ pages: pageOutputs, modules: moduleOutputs }, () => process.disconnect());
  })();
});
