// visits.ts answers at /visits : Session() is this visitor's own object, kept between
// requests (a cookie holds its id). Declaring what you keep in it types it everywhere:
import { page } from './_lib/page.ts';

declare global {
  interface SessionData {
    visits?: number;
    since?: string;
  }
}

const session = Session();
if (QUERY.forget !== undefined) {
  session.close(); // the next request starts a new, empty session
  HTTP_REDIRECTION('visits');
}
session.visits = (session.visits ?? 0) + 1;
session.since ??= new Date().toLocaleTimeString('en-GB');

print(page('Your visits', html`
  <p>You have opened this page <b>${session.visits}</b> time${session.visits === 1 ? '' : 's'}
     since ${session.since}.</p>
  <p><a href="visits">Once more</a> · <a href="visits?forget">Forget me</a></p>`));
