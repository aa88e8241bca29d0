// Opens the SQLite database with the pragmas the auth flow relies on. Edit it to
// tune SQLite (the pragmas below are the ones that matter for a web server).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.ts';

export type Db = ReturnType<typeof openDatabase>;

/**
 * Opens (and creates, with its folder) the database at `path`; `:memory:` works for tests.
 *
 * @example
 * const db = openDatabase('data/app.db')
 * db.$client.close()
 */
export function openDatabase(path: string) {
  const isFile = path !== ':memory:' && !path.startsWith('file::memory:');
  if (isFile) mkdirSync(dirname(path), { recursive: true });
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
