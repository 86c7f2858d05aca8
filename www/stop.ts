import { layout } from './_lib/layout.ts';

if (QUERY.go === 'home') HTTP_REDIRECTION('/');
if (QUERY.go === 'teapot') throw new HTTP_ERROR(418, "I'm a teapot, and this page says so.");
print(layout('Stopping a script', html`
  <ul>
    <li><a href="?go=home">HTTP_REDIRECTION('/')</a></li>
    <li><a href="?go=teapot">throw new HTTP_ERROR(418, …)</a></li>
    <li><a href="?go=end">SCRIPT_END()</a>: the rest of this page is not printed</li>
  </ul>`));
if (QUERY.go === 'end') SCRIPT_END();
print('<p>(this line is printed unless SCRIPT_END ran)</p>');
