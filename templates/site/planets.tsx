// planets.tsx answers at /planets : JSX rendered to HTML on the server (no React).
// Text and attributes are escaped; a JSX element standing alone at the top level is printed.
const planets = [
  { name: 'Mercury', moons: 0 },
  { name: 'Venus', moons: 0 },
  { name: 'Earth', moons: 1 },
  { name: 'Mars', moons: 2 },
];

function Planet({ name, moons }: { name: string; moons: number }) {
  return (
    <li>
      <b>{name}</b>: {moons === 0 ? 'no moon' : moons === 1 ? 'one moon' : `${moons} moons`}
    </li>
  );
}

print('<!doctype html>');
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>A JSX page</title>
    <link rel="stylesheet" href="/style.css" />
  </head>
  <body>
    <main>
      <h1>The rocky planets</h1>
      <ul>{planets.map((p) => <Planet name={p.name} moons={p.moons} />)}</ul>
      <p class="home"><a href="/">← home</a></p>
    </main>
  </body>
</html>;
