/**
 * `karrigell-ts init [DIR]`: a ready site, never overwriting a file (SPEC §1).
 *
 * Copies the example site of the package's `templates/site/` (a home page and
 * one page of each kind: script, service, `.tsx`, `.tsp`, session) and writes
 * a `tsconfig.json` that makes editors know the names of a script's scope:
 * it lists the package's `types/globals.d.ts` and maps `karrigell-ts` (and its
 * JSX runtime) to the package's declarations, by paths relative to DIR.
 *
 * When neither DIR's parent folder (the project) nor a folder above it has a
 * package.json, it writes one there (`"type": "module"`, `start` and `check`
 * scripts): `npm start` then works, and Node, editors and tools that read the
 * package type take the site's files for what they are (the server itself
 * compiles them as ES modules whatever the type says, SPEC §3).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_COMPILER_OPTIONS } from '../typecheck/typecheck.js';
import { PACKAGE_DIR } from '../site.js';
import { CLI_COMMAND } from '../runtime.js';

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
  try {
    const written = writeProjectPackage(target);
    if (written) out += `  created ${path.relative(process.cwd(), written).split(path.sep).join('/') || written} ("type": "module"; npm start, npm run check)\n`;
  } catch (err) {
    return fatal(`cannot write the project's package.json: ${(err as Error).message}`);
  }
  for (const rel of created) out += `  created ${shown(rel)}\n`;
  for (const rel of skipped) out += `  skipped ${shown(rel)} (already there, left as it is)\n`;
  out += `karrigell-ts init: ${created.length} file${created.length === 1 ? '' : 's'} created, ${skipped.length} skipped in ${dir}\n`;
  const arg = dir === 'www' ? '' : ` ${/^[\w./-]+$/.test(dir) ? dir : JSON.stringify(dir)}`;
  out += `Next: ${CLI_COMMAND} serve${arg}   (then open http://127.0.0.1:8080/)\n`;
  out += `      ${CLI_COMMAND} check${arg}   (type-checks every script)\n`;
  process.stdout.write(out);
  return 0;
}

/** The package.json of the project folder above `site`, found where Node would look (that folder and every folder above it). */
function findPackageJson(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Writes a package.json in the folder that holds `site` unless there is one
 * there or above (never overwriting: `wx`); returns its path when written.
 */
export function writeProjectPackage(site: string): string | undefined {
  const project = path.dirname(site);
  if (findPackageJson(project)) return undefined;
  const rel = path.relative(project, site).split(path.sep).join('/');
  const arg = /^[\w./-]+$/.test(rel) ? rel : JSON.stringify(rel);
  const name = path.basename(project).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'site';
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { start: `karrigell-ts serve ${arg}`, check: `karrigell-ts check ${arg}` },
  };
  const file = path.join(project, 'package.json');
  try {
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n', { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  return file;
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
