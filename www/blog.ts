import { layout } from './_lib/layout.ts';

// /blog/2026/hello-world runs this script with THIS.args = ["2026", "hello-world"].
const [year, slug] = THIS.args;
print(layout(slug ? `Post “${slug}”` : 'Blog', html`
  <p>Year: ${year ?? '(none)'}; slug: ${slug ?? '(none)'}.</p>
  <pre>${JSON.stringify(THIS, null, 2)}</pre>`));
