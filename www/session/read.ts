// www/session/read.ts
// Called without a query string: the names come from the session.
import { layout } from '../_lib/layout.ts';

const so = Session();
print(layout('Read back', so.name === undefined
  ? html`<p id="names">The session holds no names. <a href="./">Start again</a></p>`
  : html`<p id="names">Your name is ${so.firstname} ${so.name}.</p>
<p><a href="close">Close the session</a></p>`));
