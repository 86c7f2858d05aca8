// www/cards.tsx: JSX renders to HTML on the server; text and attributes are escaped.
import { layout } from './_lib/layout.ts';

function Page({ title, children }: { title: string; children?: unknown }) {
  return layout(title, <>{children}</>);
}

function Card({ title, children }: { title: string; children?: unknown }) {
  return <section class="card"><h2>{title}</h2>{children}</section>;
}

const fruits = ['apple', 'pear', '<script>alert(1)</script>'];

// A JSX element on its own at the top level is printed.
<Page title="A JSX page">
  <Card title="Fruits">
    <ul>{fruits.map((f) => <li>{f}</li>)}</ul>
  </Card>
  <Card title="Trusted HTML">{raw('<em>raw() is inserted as is</em>')}</Card>
</Page>;
