const rows = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, name: `item <${i + 1}>`, price: (i * 1.25).toFixed(2) }));
<table>
  {rows.map((row) => <tr><td>{row.id}</td><td>{row.name}</td><td>{row.price}</td></tr>)}
</table>;
