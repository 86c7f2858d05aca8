// calc.ts is a service: each exported function answers /calc/NAME with the request's
// fields (/calc alone calls index). Return HTML, or a plain object to answer JSON.
import { page } from './_lib/page.ts';

export function index() {
  return page('A calculator service', html`
    <form action="add">
      <input name="a" value="6" size="4"> + <input name="b" value="7" size="4">
      <button>=</button>
    </form>
    <p>The same, as JSON: <a href="sum?a=6&amp;b=7">sum?a=6&amp;b=7</a></p>`);
}

export function add(fields: Record<string, FieldValue>) {
  const a = Number(fields.a);
  const b = Number(fields.b);
  return page('A calculator service', html`
    <p class="result">${a} + ${b} = <b>${a + b}</b></p>
    <p><a href="index">Another sum</a></p>`);
}

/** A plain object is answered as JSON. */
export function sum(fields: Record<string, FieldValue>) {
  const a = Number(fields.a);
  const b = Number(fields.b);
  return { a, b, sum: a + b };
}
