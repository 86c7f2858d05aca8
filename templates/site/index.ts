// index.ts answers at / : every .ts, .tsx and .tsp file of this folder answers at its URL.
// Open one in your editor, change it, save: the browser reloads with the change.
import { page } from './_lib/page.ts';

const examples: [href: string, file: string, what: string][] = [
  ['hello?name=World', 'hello.ts', 'a page script: QUERY, print() and html``'],
  ['calc', 'calc.ts', 'a service: each exported function answers its own URL'],
  ['planets', 'planets.tsx', 'a JSX page, rendered to HTML on the server'],
  ['table?n=7', 'table.tsp', 'TypeScript inside HTML'],
  ['visits', 'visits.ts', 'a session: Session() remembers you between requests'],
];

print(page('It works!', html`
  <p>This site is a folder of scripts. Have a look at the examples:</p>
  <ul class="examples">
    ${examples.map(([href, file, what]) => html`<li><a href="${href}"><code>${file}</code></a> ${what}</li>`)}
  </ul>
  <p>Check the types of every script with <code>npx karrigell-ts check</code>.</p>`));
