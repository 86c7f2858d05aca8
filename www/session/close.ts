// so.close() discards the session: the next request starts a new, empty one.
Session().close();
print(html`<!doctype html><link rel="stylesheet" href="/style.css">
<main><h1>Session closed</h1><p><a href="read">Read the session again</a> (it is empty now).</p></main>`);
