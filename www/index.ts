import { layout } from './_lib/layout.ts';
import { hit } from './_lib/counter.ts';

const pages: [string, string][] = [
  ['/hello?name=Ann', 'Hello: QUERY, Session() and html`` in six lines'],
  ['/form.html', 'A form posted to a script (url-encoded fields, arrays, the _field shortcuts)'],
  ['/upload.html', 'File upload (multipart)'],
  ['/calc', 'A service: exported functions answer /calc/NAME'],
  ['/blog/2026/hello-world', 'Extra path segments: THIS.args'],
  ['/request', 'HEADERS, COOKIE, SET_COOKIE, RESPONSE, THIS, ACCEPTED_LANGUAGES'],
  ['/session/', 'Sessions: the Karrigell manual\'s example'],
  ['/cards', 'A .tsx page: JSX rendered on the server, components, escaping'],
  ['/table?n=8', 'A .tsp page: TypeScript inside HTML'],
  ['/guestbook', 'A guestbook: a form and a .tsp listing on an SQLite database (_lib/db.ts)'],
  ['/included', 'Include(): a page made of a script, its output and a static file'],
  ['/protected', 'Authentication(): HTTP Basic (demo / secret)'],
  ['/languages', '_(): translations from _translations/LANG.json'],
  ['/live-editing', 'Live editing: edit a page while you type in it, nothing is lost'],
  ['/stop', 'HTTP_REDIRECTION, HTTP_ERROR and SCRIPT_END'],
  ['/broken', 'A script error: the development error page'],
];

print(layout('The demo site', html`
  <p>Every page here is a file in <code>www/</code>: open it, edit it, reload.</p>
  <ul>${pages.map(([href, label]) => html`<li><a href="${href}">${label}</a></li>`)}</ul>
  <p>This page was served ${hit()} times since <code>_lib/counter.ts</code> was loaded.</p>`));
