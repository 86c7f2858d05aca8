// www/languages.ts: _(text) translates into the visitor's language, from
// _translations/LANG.json. Change your browser's preferred language (or run
// curl -H 'Accept-Language: fr-CA' http://127.0.0.1:8080/languages) and reload.
import { layout } from './_lib/layout.ts';

print(layout(_('Translations'), html`
  <p>${_('Hello')}!</p>
  <p>${_('This sentence is translated by _() from the files in _translations/.')}</p>
  <p>${_('A sentence nobody translated stays as it is.')}</p>
  <p>${_('Your languages, best first:')} <code>${ACCEPTED_LANGUAGES.join(', ') || '-'}</code></p>
  <p><a href="/">${_('back')}</a></p>`));
