// www/greet.ts
import { layout } from './_lib/layout.ts';

// `_name` is Karrigell's shortcut for QUERY.name (undefined when absent).
const colours = Array.isArray(QUERY.colour) ? QUERY.colour : [];
print(layout('Fields received', html`
  <p>Hello <b>${_name ?? 'stranger'}</b>, aged ${_age ?? '?'}.</p>
  <p>Your colours: ${colours.length ? colours.join(', ') : 'none'}.</p>
  <pre>${JSON.stringify(QUERY, null, 2)}</pre>
  <p><a href="form.html">back to the form</a></p>`));
