// A helper module: imported modules are evaluated once and shared between requests.
import { html, raw, type RawHtml } from 'karrigell-ts';

const started = new Date();

/** The demo's layout around a page's body (scripts and .tsx pages). */
export function layout(title: string, body: RawHtml | string): RawHtml {
  return html`${pageTop(title)}
    ${typeof body === 'string' ? raw(body) : body}
${pageBottom()}`;
}

/** The layout up to the page's own content, for .tsp pages: `<%- pageTop('Title') %>`. */
export function pageTop(title: string): RawHtml {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · karrigell-ts</title>
  <link rel="stylesheet" href="/style.css">
  <link rel="icon" href="/favicon.svg">
</head>
<body>
  <header><a href="/">karrigell-ts</a> <span>demo site</span></header>
  <main>
    <h1>${title}</h1>`;
}

/** The rest of the layout: `<%- pageBottom() %>`. */
export function pageBottom(): RawHtml {
  return html`  </main>
  <footer><a href="/">← all the demo pages</a> · served by karrigell-ts · helper module loaded ${started.toISOString()}</footer>
</body>
</html>`;
}
