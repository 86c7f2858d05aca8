// www/session/read.ts
// Called without a query string: the names come from the session.
const so = Session();
print(html`<!doctype html><link rel="stylesheet" href="/style.css"><main><h1>Read back</h1>`);
if (so.name === undefined) {
  print(html`<p id="names">The session holds no names. <a href="./">Start again</a></p>`);
} else {
  print(html`<p id="names">Your name is ${so.firstname} ${so.name}.</p>
<p><a href="close">Close the session</a></p>`);
}
print('</main>');
