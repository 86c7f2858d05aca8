import { layout } from './_lib/layout.ts';

SET_COOKIE('demo', `seen at ${new Date().toISOString()}`, { maxAge: 3600, httpOnly: true, sameSite: 'lax' });
RESPONSE.headers['X-Powered-By'] = 'karrigell-ts';
const { method, clientAddress, httpVersion } = REQUEST_HANDLER;

print(layout('The request', html`
  <p>${method} from ${clientAddress} over HTTP/${httpVersion}.</p>
  <h2>ACCEPTED_LANGUAGES</h2><p>${ACCEPTED_LANGUAGES.join(', ') || '(none)'}</p>
  <h2>COOKIE</h2><pre>${JSON.stringify(COOKIE, null, 2)}</pre>
  <h2>HEADERS</h2><pre>${JSON.stringify(HEADERS, null, 2)}</pre>
  <h2>THIS</h2><pre>${JSON.stringify(THIS, null, 2)}</pre>
  <p>Reload: the <code>demo</code> cookie set by SET_COOKIE comes back.</p>`));
