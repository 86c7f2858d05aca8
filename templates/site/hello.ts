// hello.ts answers at /hello?name=Ann : its top-level code runs on every request and
// what it prints is the page. QUERY holds the query string and the form's fields;
// html`` escapes every value, so a name like <script> is harmless.
import { page } from './_lib/page.ts';

const name = typeof QUERY.name === 'string' && QUERY.name.trim() ? QUERY.name.trim() : 'World';

print(page(`Hello ${name}!`, html`
  <form>
    <label>Your name <input name="name" value="${name}" autofocus></label>
    <button>Say hello</button>
  </form>
  <p>It is ${new Date().toLocaleTimeString('en-GB')} on the server.</p>`));
