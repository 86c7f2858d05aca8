// www/included.ts: Include() inserts another script's output, or a file's text, right here.
Include('_inc/header.ts', { title: 'A page made of three parts' });
print(html`<p>The top of this page is the output of <code>_inc/header.ts</code>, run with <code>title</code> in its scope.</p>
<p>Visits in this session: ${Session().visits ?? 0} (the <a href="/hello">hello page</a> counts them).</p>`);
Include('_inc/footer.html');
