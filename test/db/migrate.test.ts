import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { expect, test } from 'vitest';
import { openDatabase, type Db } from '../../db/client.ts';
import { MIGRATIONS_FOLDER, MigrationError, migrateDatabase } from '../../db/migrate.ts';

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
  entries: { idx: number; when: number; tag: string; version: string; breakpoints: boolean }[];
};

test('applies every committed migration to a fresh database, then is idempotent', () => {
  const db = openDatabase(':memory:');
  expect(migrateDatabase(db)).toBe(journal.entries.length);
  expect(migrateDatabase(db)).toBe(0);
  const tables = db.$client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
  expect(tables).toEqual(expect.arrayContaining(['users', 'sessions', 'refresh_tokens']));
  expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
});

test('opens file databases in WAL mode with foreign keys and a busy timeout', () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'db-')), 'nested/app.db'));
  expect(db.$client.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
  expect(db.$client.pragma('busy_timeout', { simple: true })).toBe(5000);
  db.$client.close();
});

/** The committed migrations plus one more, in a temporary folder. */
function migrationsWith(tag: string, sql: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const last = journal.entries.at(-1)!;
  const entries = [...journal.entries, { ...last, idx: last.idx + 1, when: last.when + 1, tag }];
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries }));
  writeFileSync(join(folder, `${tag}.sql`), sql);
  return folder;
}

// What drizzle-kit writes when a change needs SQLite's table rebuild (here: a new
// NOT NULL column with a default on `users`, rebuilt the way drizzle-kit does it).
const REBUILD_USERS = [
  'PRAGMA foreign_keys=OFF;',
  `CREATE TABLE \`__new_users\` (
  \`id\` text PRIMARY KEY NOT NULL, \`email\` text NOT NULL, \`password_hash\` text NOT NULL,
  \`role\` text DEFAULT 'user' NOT NULL, \`created_at\` integer NOT NULL, \`updated_at\` integer NOT NULL,
  \`locale\` text DEFAULT 'en' NOT NULL);`,
  'INSERT INTO `__new_users`("id", "email", "password_hash", "role", "created_at", "updated_at") SELECT "id", "email", "password_hash", "role", "created_at", "updated_at" FROM `users`;',
  'DROP TABLE `users`;',
  'ALTER TABLE `__new_users` RENAME TO `users`;',
  'PRAGMA foreign_keys=ON;',
  'CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);',
].join('--> statement-breakpoint\n');

function seedSignedInUser(db: Db) {
  const now = Date.now();
  db.$client.exec(`
    INSERT INTO users (id, email, password_hash, role, created_at, updated_at)
      VALUES ('u1', 'ada@example.com', 'x', 'user', ${now}, ${now});
    INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, expires_at)
      VALUES ('s1', 'u1', ${now}, ${now}, ${now + 1e6}, ${now + 1e7});
    INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
      VALUES ('r1', 's1', 'hash', ${now}, ${now + 1e6});`);
}

const count = (db: Db, table: string) => db.$client.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

test('a table rebuild keeps the rows that reference the rebuilt table', () => {
  const db = openDatabase(':memory:');
  migrateDatabase(db);
  seedSignedInUser(db);

  expect(migrateDatabase(db, migrationsWith('0100_rebuild_users', REBUILD_USERS))).toBe(1);

  expect(count(db, 'users')).toBe(1);
  expect(count(db, 'sessions')).toBe(1);
  expect(count(db, 'refresh_tokens')).toBe(1);
  expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
  expect(db.$client.pragma('foreign_key_check')).toEqual([]);
});

test("drizzle's plain migrator would have deleted every session (the pitfall is real)", () => {
  const db = openDatabase(':memory:');
  migrateDatabase(db);
  seedSignedInUser(db);

  migrate(db, { migrationsFolder: migrationsWith('0100_rebuild_users', REBUILD_USERS) });

  expect(count(db, 'users')).toBe(1);
  expect(count(db, 'sessions')).toBe(0);
});

test('refuses a migration that leaves rows pointing at missing parents', () => {
  const db = openDatabase(':memory:');
  migrateDatabase(db);
  seedSignedInUser(db);

  const orphaning = migrationsWith('0100_orphan', "DELETE FROM users WHERE id = 'u1';");
  expect(() => migrateDatabase(db, orphaning)).toThrow(MigrationError);
  expect(() => migrateDatabase(db, orphaning)).toThrow(/sessions → users/);
  expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
});
