/**
 * In a `.tsx` page, a JSX element standing as a statement at the top level is
 * printed: `<h1>Hi {name}</h1>;` becomes `print(<h1>Hi {name}</h1>);`.
 */
import { runTsJob, type TsWorkerError } from './ts-worker.js';
import { loadTypescript } from './typescript.js';
import type ts from 'typescript';


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

/**
 * `printTopLevelJsx` on the TypeScript worker (ts-worker.ts), so that the
 * compiler (tens of MB, and a heavy load that disturbs the server thread's
 * optimised code) never enters the server's own heap. A job lost because the
 * worker stopped under it (another job ran it out of memory) is run once more
 * on a new worker: this one did nothing wrong.
 */
export async function printTopLevelJsxOffThread(source: string, fileName: string): Promise<string> {
  if (!source.includes('<')) return source;
  const job = (): Promise<string> => runTsJob<string>('tsx-statements', { source, fileName });
  try {
    return await job().catch((err: TsWorkerError) => (err.workerStopped ? job() : Promise.reject(err)));
  } catch (err) {
    const e = err as TsWorkerError;
    throw new Error(e.workerStopped ? `the .tsx statement pass stopped: ${e.message}` : `the .tsx statement pass failed: ${e.message}`);
  }
}

