import { createHash } from 'node:crypto';
import { layout } from './_lib/layout.ts';

const file = QUERY.file;
if (!file) HTTP_REDIRECTION('upload.html'); // not from the form
// A form sent without a file chosen still has the part, with an empty file name.
if (typeof file !== 'object' || !('data' in file) || file.filename === '') {
  print(layout('No file chosen', html`<p>The form was sent without a file: <a href="upload.html">choose one</a> and upload again.</p>`));
  SCRIPT_END();
}

const sha = createHash('sha256').update(file.data).digest('hex');
print(layout('File received', html`
  <table>
    <tr><th>name</th><td>${file.filename}</td></tr>
    <tr><th>type</th><td>${file.type}</td></tr>
    <tr><th>size</th><td>${file.size} bytes</td></tr>
    <tr><th>sha-256</th><td><code>${sha}</code></td></tr>
    <tr><th>comment</th><td>${QUERY.comment}</td></tr>
  </table>
  <p><a href="upload.html">upload another</a></p>`));
