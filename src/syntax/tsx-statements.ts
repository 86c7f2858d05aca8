/**
 * In a `.tsx` page, a JSX element standing as a statement at the top level is
 * printed: `<h1>Hi {name}</h1>;` becomes `print(<h1>Hi {name}</h1>);`.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type ts from 'typescript';

let typescript: typeof ts | undefined;

/** Loads the TypeScript compiler on first use only. */
function loadTypescript(): typeof ts {
  typescript ??= createRequire(import.meta.url)('typescript') as typeof ts;
  return typescript;
}

/**
 * Wraps every top-level JSX expression statement of a `.tsx` source in
 * `print(…)`, keeping all other text (and so lines and columns) in place.
 */
export function printTopLevelJsx(source: string, fileName: string): string {
  if (!source.includes('<')) return source;
  const t = loadTypescript();
  const sf = t.createSourceFile(fileName, source, t.ScriptTarget.Latest, true, t.ScriptKind.TSX);
  // Insertions as [position, text], in source order.
  const edits: Array<[number, string]> = [];
  for (const statement of sf.statements) {
    if (!t.isExpressionStatement(statement)) continue;
    const elements = jsxElements(t, statement.expression);
    if (elements === undefined) continue;
    elements.forEach((node, i) => {
      edits.push([node.getStart(sf), i === 0 ? 'print(' : ';print(']);
      edits.push([node.end, ')']);
    });
  }
  if (edits.length === 0) return source;
  let out = '';
  let last = 0;
  for (const [pos, text] of edits) {
    out += source.slice(last, pos) + text;
    last = pos;
  }
  return out + source.slice(last);
}

/**
 * The JSX expressions to print for a statement's expression, or undefined
 * when it is not JSX. Consecutive JSX elements without semicolons between
 * them (`<h1/>` newline `<p/>`) parse as one synthetic comma expression:
 * each element is then printed on its own.
 */
function jsxElements(t: typeof ts, expression: ts.Expression): ts.Expression[] | undefined {
  if (isJsx(t, skipParentheses(t, expression))) return [expression];
  if (
    t.isBinaryExpression(expression) &&
    expression.operatorToken.kind === t.SyntaxKind.CommaToken &&
    expression.operatorToken.pos === expression.operatorToken.end
  ) {
    const left = jsxElements(t, expression.left);
    const right = left && jsxElements(t, expression.right);
    return left && right ? [...left, ...right] : undefined;
  }
  return undefined;
}

function skipParentheses(t: typeof ts, expression: ts.Expression): ts.Expression {
  while (t.isParenthesizedExpression(expression)) expression = expression.expression;
  return expression;
}

function isJsx(t: typeof ts, node: ts.Node): boolean {
  return t.isJsxElement(node) || t.isJsxSelfClosingElement(node) || t.isJsxFragment(node);
}

let worker: Worker | undefined;
let idle: NodeJS.Timeout | undefined;
/** A worker idle this long is stopped (its TypeScript is tens of MB); the next `.tsx` compile starts another. */
const IDLE_MS = 30_000;
let nextId = 0;
const waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();

/**
 * `printTopLevelJsx` on a worker thread (started on first use, holding the
 * process open only while it has work). It stays for the next edit of a
 * `.tsx` page (loading TypeScript again would take a few hundred ms) until
 * it has been idle for IDLE_MS; `releaseTsxWorker` stops it at once
 * (production, once nothing compiles).
 */
export function printTopLevelJsxOffThread(source: string, fileName: string): Promise<string> {
  if (!source.includes('<')) return Promise.resolve(source);
  if (!worker) {
    // The parser alone needs little: a bounded heap keeps a pathological page from growing the server.
    const w = new Worker(new URL('./tsx-statements-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 8 } });
    w.on('message', (msg: { id: number; text?: string; error?: string }) => {
      const job = waiting.get(msg.id);
      if (!job) return;
      waiting.delete(msg.id);
      if (!waiting.size) {
        w.unref();
        idle = setTimeout(() => void releaseTsxWorker(), IDLE_MS);
        idle.unref();
      }
      if (msg.error !== undefined) job.reject(new Error(`the .tsx statement pass failed: ${msg.error}`));
      else job.resolve(msg.text!);
    });
    // A crash fails the jobs of the current worker (an idle one stopped on purpose has none).
    const fail = (err: Error): void => {
      if (worker !== w) return;
      worker = undefined;
      for (const job of waiting.values()) job.reject(new Error(`the .tsx statement pass stopped: ${err.message}`));
      waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`its thread exited with code ${code}`)));
    worker = w;
  }
  const id = nextId++;
  if (idle) clearTimeout(idle);
  idle = undefined;
  worker.ref();
  worker.postMessage({ id, source, fileName });
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}

/** Stops the worker once its jobs are done (its TypeScript is tens of MB); a later job starts another. */
export async function releaseTsxWorker(): Promise<void> {
  const w = worker;
  if (!w || waiting.size) return;
  worker = undefined;
  await w.terminate();
}
