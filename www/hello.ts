// www/hello.ts  ->  http://127.0.0.1:8080/hello?name=Ann
const so = Session();
so.visits = (so.visits ?? 0) + 1;
print(html`<h1>Hello ${QUERY.name ?? "stranger"}</h1>`); // html`` escapes
print(`<p>visit number ${so.visits}</p>`);
print(`<p><a href="/">back</a></p>`);
