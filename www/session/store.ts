// www/session/store.ts
// Receives the form and keeps the names in the session.
import { layout } from '../_lib/layout.ts';

const so = Session();
so.name = _name;
so.firstname = _firstname;
print(layout('Stored', html`<p>Thank you ${_firstname} ${_name}.</p>
<p><a href="read">Next…</a></p>`));
