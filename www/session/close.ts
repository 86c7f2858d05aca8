// so.close() discards the session: the next request starts a new, empty one.
import { layout } from '../_lib/layout.ts';

Session().close();
print(layout('Session closed', html`<p><a href="read">Read the session again</a> (it is empty now).</p>`));
