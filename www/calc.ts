// www/calc.ts
// A service: every exported function answers /calc/NAME with the request's fields.
import { layout } from './_lib/layout.ts';

export function index() {
  return layout('A service', html`
    <form action="add" class="inline">
      <input name="a" value="2"> + <input name="b" value="3"> <button>= ?</button>
    </form>
    <p>Or as JSON: <a href="sum?a=2&b=3">sum?a=2&amp;b=3</a>. <a href="_secret">_secret</a> is private (404).</p>`);
}

export function add(fields: Record<string, unknown>) {
  const total = Number(fields.a) + Number(fields.b);
  return layout('Result', html`<p>${fields.a} + ${fields.b} = <b>${total}</b></p><p><a href="index">again</a></p>`);
}

/** A plain object is answered as JSON. */
export function sum(fields: Record<string, unknown>) {
  return { a: Number(fields.a), b: Number(fields.b), sum: Number(fields.a) + Number(fields.b) };
}

export function _secret() {
  return 'never reachable';
}
