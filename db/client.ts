// Opens the SQLite database with the pragmas the auth flow relies on. Edit it to
// tune SQLite (the pragmas below are the ones that matter for a web server).
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.ts';

export type Db = ReturnType<typeof openDatabase>;

/**
 * Opens (and creates, with its folder) the database at `path`; `:memory:` works for tests.
 * What it creates only its owner can read: folders 0700, the file 0600.
 *
 * @example
 * const db = openDatabase('data/app.db')
 * db.$client.close()
 */
export function openDatabase(path: string) {
  const isFile = path !== ':memory:' && !path.startsWith('file::memory:');
  if (isFile) {
    // It holds password and refresh-token hashes. The modes apply only to what is created
    // here: a folder that exists (the project root, say) keeps the mode its owner chose.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // SQLite gives the -wal, -shm and -journal files the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const sqlite = new Database(path);
  // WAL lets readers run while a refresh rotation writes; NORMAL is durable in WAL
  // mode except for the last transactions before a power loss (never corruption).
  if (isFile) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Wait for a competing writer (a script, a second process) instead of failing with SQLITE_BUSY.
  sqlite.pragma('busy_timeout = 5000');
  return drizzle(sqlite, { schema });
}
