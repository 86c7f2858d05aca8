/** `--listing`: the HTML list of a folder that has no index file. */
import fs from 'node:fs';
import { escapeHtml } from '../html.js';
import { isDeclarationFile, isHiddenName, isScriptFile } from '../site.js';

/** Lists `dir` (served at `urlPath`, which ends with `/`): folders first, hidden names left out. */
export function renderListing(dir: string, urlPath: string): string {
  const entries = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !isHiddenName(e.name) && !isDeclarationFile(e.name))
    .map((e) => ({ name: e.name, folder: e.isDirectory() }))
    .sort((a, b) => Number(b.folder) - Number(a.folder) || a.name.localeCompare(b.name));
  const items = entries.map((e) => {
    const label = e.folder ? e.name + '/' : e.name;
    const href = encodeURIComponent(isScriptFile(e.name) ? e.name.replace(/\.tsp?x?$/, '') : e.name) + (e.folder ? '/' : '');
    return `<li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a></li>`;
  });
  const up = urlPath === '/' ? '' : '<li><a href="../">../</a></li>';
  const title = `Index of ${escapeHtml(urlPath)}`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>body{font:15px/1.6 system-ui,sans-serif;margin:24px}a{text-decoration:none}</style></head><body><h1>${title}</h1><ul>${up}${items.join('')}</ul></body></html>`;
}
