import { pageTop, pageBottom } from './_lib/layout.ts';

if (QUERY.go === 'home') HTTP_REDIRECTION('/');
if (QUERY.go === 'teapot') throw new HTTP_ERROR(418, "I'm a teapot, and this page says so.");
print(pageTop('Stopping a script'));
print(html`
  <ul>
    <li><a href="?go=home">HTTP_REDIRECTION('/')</a>: back to the home page</li>
    <li><a href="?go=teapot">throw new HTTP_ERROR(418, …)</a>: an error answer</li>
    <li><a href="?go=end">SCRIPT_END()</a>: what was printed so far is sent, the rest of the script does not run</li>
  </ul>`);
if (QUERY.go === 'end') {
  print(html`<p id="ended">SCRIPT_END() ran: the next paragraph was not printed.</p>`, pageBottom());
  SCRIPT_END();
}
print(html`<p>(this paragraph is printed unless SCRIPT_END ran)</p>`, pageBottom());
