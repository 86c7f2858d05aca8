// www/protected.ts: HTTP Basic authentication. Log in as demo / secret.
import { layout } from './_lib/layout.ts';

const USERS: Record<string, string> = { demo: 'secret' };

Authentication(
  () => AUTH_USER !== undefined && USERS[AUTH_USER] === AUTH_PASSWORD,
  'karrigell-ts demo',
  'This page is protected. Log in as user "demo" with password "secret".',
);

// Only reached once the browser sent the right user name and password.
print(layout('A protected page', html`
  <p>Welcome, <b>${AUTH_USER}</b>: your browser sent the right password.</p>
  <p>The test is an ordinary function, so users can come from anywhere
     (a file, a database with <code>await Authentication(async () =&gt; …)</code>).</p>
  <p>Browsers keep Basic credentials until they are closed.</p>`));
