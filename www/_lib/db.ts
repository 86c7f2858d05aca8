// www/_lib/db.ts: the guestbook's database, opened once when a page first imports it.
// SQLite compiled to WebAssembly (the sql.js package): nothing to compile or download
// at install, the same on every Node. It works in memory; every write saves the whole
// database to a file, atomically. For a big or busy database, see "Databases" in README.md.
import fs from 'node:fs';
import path from 'node:path';
import initSqlJs from 'sql.js';

/** Under `_data/`: a folder starting with `_` is never served. */
const FILE = process.env.GUESTBOOK_DB ?? path.join(import.meta.dirname, '..', '_data', 'guestbook.sqlite');

export interface Entry {
  id: number;
  name: string;
  message: string;
  at: string;
}

const SQL = await initSqlJs();
const db = fs.existsSync(FILE) ? new SQL.Database(fs.readFileSync(FILE)) : new SQL.Database();
db.run(`CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, message TEXT NOT NULL, at TEXT NOT NULL)`);

// Live editing: an edit of this file loads a new copy of it; the old copy's database is closed first.
import.meta.hot?.dispose(() => db.close());

/** The latest entries, newest first. */
export function latestEntries(limit = 50): Entry[] {
  const rows: Entry[] = [];
  const stmt = db.prepare('SELECT id, name, message, at FROM entries ORDER BY id DESC LIMIT ?', [limit]);
  while (stmt.step()) rows.push(stmt.getAsObject() as unknown as Entry);
  stmt.free();
  return rows;
}

/** Adds an entry and saves the database. */
export function addEntry(name: string, message: string): void {
  db.run('INSERT INTO entries (name, message, at) VALUES (?, ?, ?)', [name, message, new Date().toISOString()]);
  save();
}

/** Writes a temporary file, flushes it to disk, then renames it over the old one: a crash never leaves half a database. */
function save(): void {
  fs.mkdirSync(path.dirname(FILE), { recursive: true });
  const temporary = `${FILE}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.writeSync(fd, db.export());
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, FILE);
}
