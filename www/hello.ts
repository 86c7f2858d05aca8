// www/hello.ts  ->  http://127.0.0.1:8080/hello?name=Ann
import { layout } from './_lib/layout.ts';

const so = Session();
so.visits = (so.visits ?? 0) + 1;
print(layout(`Hello ${QUERY.name ?? 'stranger'}`, html`<p>visit number ${so.visits}</p>`)); // html`` escapes
