// An included script: same request, same QUERY and Session(), plus the names passed to Include.
print(html`<!doctype html><link rel="stylesheet" href="/style.css">
<header><a href="/">karrigell-ts</a> <span>${title}</span></header><main>`);
