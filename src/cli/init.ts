/**
 * `karrigell-ts init [DIR]`: a ready site, never overwriting a file (SPEC §1).
 *
 * Copies the example site of the package's `templates/site/` (a home page and
 * one page of each kind: script, service, `.tsx`, `.tsp`, session) and writes
 * a `tsconfig.json` that makes editors know the names of a script's scope:
 * it lists the package's `types/globals.d.ts` and maps `karrigell-ts` (and its
 * JSX runtime) to the package's declarations, by paths relative to DIR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_COMPILER_OPTIONS } from '../typecheck/typecheck.js';
import { PACKAGE_DIR } from '../site.js';

const TEMPLATE_DIR = path.join(PACKAGE_DIR, 'templates', 'site');

/** Creates the site; resolves to the exit status. */
export async function runInit(dir = 'www'): Promise<number> {
  const target = path.resolve(dir);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(target);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) return fatal(`${dir} exists and is not a folder`);
  const created: string[] = [];
  const skipped: string[] = [];
  try {
    fs.mkdirSync(target, { recursive: true });
    const files = new Map<string, string | Buffer>();
    for (const rel of listFiles(TEMPLATE_DIR)) files.set(rel, fs.readFileSync(path.join(TEMPLATE_DIR, rel)));
    files.set('tsconfig.json', siteTsconfig(target));
    for (const [rel, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
      const file = path.join(target, rel);
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { flag: 'wx' }); // never overwrites
        created.push(rel);
      } catch (err) {
        // Already there (or a file stands where its folder would be): left as it is.
        if (!['EEXIST', 'ENOTDIR', 'EISDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
        skipped.push(rel);
      }
    }
  } catch (err) {
    return fatal(`cannot create the site in ${dir}: ${(err as Error).message}`);
  }
  const shown = (rel: string): string => path.join(dir, rel).split(path.sep).join('/');
  let out = '';
  for (const rel of created) out += `  created ${shown(rel)}\n`;
  for (const rel of skipped) out += `  skipped ${shown(rel)} (already there, left as it is)\n`;
  out += `karrigell-ts init: ${created.length} file${created.length === 1 ? '' : 's'} created, ${skipped.length} skipped in ${dir}\n`;
  const arg = dir === 'www' ? '' : ` ${/^[\w./-]+$/.test(dir) ? dir : JSON.stringify(dir)}`;
  out += `Next: npx karrigell-ts serve${arg}   (then open http://127.0.0.1:8080/)\n`;
  out += `      npx karrigell-ts check${arg}   (type-checks every script)\n`;
  process.stdout.write(out);
  return 0;
}

/** Files of a folder, relative, with `/` separators. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(path.join(dir, e.name), rel));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/**
 * Where the package is, seen from the site: the real path of the package
 * (`../node_modules/karrigell-ts` when it is installed in the project),
 * relative to `site`, with `/` separators.
 */
export function packagePathFrom(site: string): string {
  let rel = path.relative(safeRealpath(site), safeRealpath(PACKAGE_DIR)).split(path.sep).join('/');
  if (!rel) rel = '.';
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** The tsconfig.json of a new site in `site`. */
export function siteTsconfig(site: string): string {
  const pkg = packagePathFrom(site);
  const config = {
    compilerOptions: {
      ...DEFAULT_COMPILER_OPTIONS,
      paths: {
        'karrigell-ts': [`${pkg}/dist/index.d.ts`],
        'karrigell-ts/jsx-runtime': [`${pkg}/dist/jsx-runtime.d.ts`],
      },
    },
    files: [`${pkg}/types/globals.d.ts`],
    include: ['**/*.ts', '**/*.tsx'],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

function safeRealpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function fatal(message: string): number {
  process.stderr.write(`karrigell-ts: init: ${message}\n`);
  return 1;
}
