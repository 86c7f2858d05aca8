// A helper module: imported modules are evaluated once and shared between requests.
import { html, raw, type RawHtml } from 'karrigell-ts';

const started = new Date();

/** Wraps a page's body in the demo's layout. */
export function layout(title: string, body: RawHtml | string): RawHtml {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · karrigell-ts</title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <header><a href="/">karrigell-ts</a> <span>demo site</span></header>
  <main>
    <h1>${title}</h1>
    ${typeof body === 'string' ? raw(body) : body}
  </main>
  <footer>Served by karrigell-ts · helper module loaded ${started.toISOString()}</footer>
</body>
</html>`;
}
