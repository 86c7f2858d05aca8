// www/session/store.ts
// Receives the form and keeps the names in the session.
const so = Session();
so.name = _name;
so.firstname = _firstname;
print(html`<!doctype html><link rel="stylesheet" href="/style.css">
<main><h1>Stored</h1><p>Thank you ${_firstname} ${_name}.</p>
<p><a href="read">Next…</a></p></main>`);
