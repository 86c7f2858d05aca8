// A 10 KB page (200 table rows): compressed on every request when the client takes br or gzip.
const rows: string[] = [];
for (let i = 0; i < 200; i++) rows.push('<tr><td>' + i + '</td><td>item ' + i + '</td><td>' + (i * 1.25).toFixed(2) + '</td></tr>');
print('<table>' + rows.join('') + '</table>');
