// This page fails on purpose: see the error page with the TypeScript line.
interface Order {
  id: number;
  lines: { price: number }[];
}

function total(order: Order): number {
  return order.lines.reduce((sum, line) => sum + line.price, 0);
}

const order = JSON.parse('{"id": 1}') as Order; // no "lines": total() fails
print(`<p>Total: ${total(order)}</p>`);
