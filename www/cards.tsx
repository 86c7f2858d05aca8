// www/cards.tsx: JSX renders to HTML on the server; text and attributes are escaped.
function Card({ title, children }: { title: string; children?: unknown }) {
  return <section class="card"><h2>{title}</h2>{children}</section>;
}

const fruits = ['apple', 'pear', '<script>alert(1)</script>'];

<link rel="stylesheet" href="/style.css" />;
<main>
  <h1>JSX page</h1>
  <Card title="Fruits">
    <ul>{fruits.map((f) => <li>{f}</li>)}</ul>
  </Card>
  <Card title="Trusted HTML">{raw('<em>raw() is inserted as is</em>')}</Card>
  <p><a href="/">back</a></p>
</main>;
