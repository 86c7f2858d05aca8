// A helper module: folders whose name starts with _ are never served, and imported
// modules are loaded once and shared by every request (keep a database pool here).
import { html, type RawHtml } from 'karrigell-ts';

/** Wraps a page's content in the site's layout. */
export function page(title: string, content: RawHtml): RawHtml {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title}</title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <main>
    <h1>${title}</h1>
    ${content}
    <p class="home"><a href="/">← home</a></p>
  </main>
</body>
</html>`;
}
