// www/included.ts: Include() inserts another script's output, or a file's text, right here.
Include('_inc/header.ts', { title: 'Includes' });
print('<h1>A page made of three parts</h1>');
print(html`<p>Visits in this session: ${(Session().visits ?? 0)}.</p>`);
Include('_inc/footer.html');
