// Migration safety. The SQLite tests open their own SQLite databases (in memory or a temp
// file), so they run whatever engine TEST_DATABASE_URL names: what they check (foreign keys
// switched off around drizzle-kit's table rebuilds, WAL, busy_timeout) exists only on SQLite.
// The PostgreSQL test needs a server, and runs when TEST_DATABASE_URL names one.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { expect, test } from 'vitest';
import { openDatabase, type Db } from '../../db/client.ts';
import { MigrationError, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, migrateDatabase } from '../../db/migrate.ts';
import { sqliteConnection } from '../../db/sqlite.ts';
import { TEST_ENGINE, onServer, withDatabase } from '../helpers/database.ts';

interface Journal {
  entries: { idx: number; when: number; tag: string; version: string; breakpoints: boolean }[];
}
const readJournal = (folder: string) => JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as Journal;
const journal = readJournal(SQLITE_MIGRATIONS);

test('applies every committed migration to a fresh database, then is idempotent', async () => {
  const db = await openDatabase(':memory:');
  try {
    expect(await migrateDatabase(db)).toBe(journal.entries.length);
    expect(await migrateDatabase(db)).toBe(0);
    const sqlite = sqliteConnection(db);
    // eslint-disable-next-line no-restricted-syntax -- better-sqlite3's own statement: this test is about SQLite
    const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['users', 'sessions', 'refresh_tokens']));
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
  } finally {
    await db.close();
  }
});

// createPostgresDatabase() clones an already migrated template: this test needs an empty
// database, so it creates one itself. PGlite's migrator is the test helper's, not the app's.
test.skipIf(TEST_ENGINE !== 'postgres')(
  'PostgreSQL: applies every committed migration to a fresh database, then is idempotent',
  async () => {
    const name = `trpc_starter_test_migrate_${randomBytes(6).toString('hex')}`;
    await onServer((client) => client.query(`CREATE DATABASE "${name}"`));
    try {
      const db = await openDatabase(withDatabase(process.env.TEST_DATABASE_URL!, name));
      try {
        expect(db.engine).toBe('postgres');
        expect(await db.migrate()).toBe(readJournal(POSTGRES_MIGRATIONS).entries.length);
        expect(await db.migrate()).toBe(0);
        const { users, sessions, refreshTokens } = db.tables;
        // The tables exist (an empty select would throw on a missing relation).
        expect(await db.select().from(users)).toEqual([]);
        expect(await db.select().from(sessions)).toEqual([]);
        expect(await db.select().from(refreshTokens)).toEqual([]);
      } finally {
        await db.close();
      }
    } finally {
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  },
);

test('opens file databases in WAL mode with foreign keys and a busy timeout', async () => {
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'db-')), 'nested/app.db'));
  try {
    const sqlite = sqliteConnection(db);
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  } finally {
    await db.close();
  }
});

/** The committed SQLite migrations plus one more, in a temporary folder. */
function migrationsWith(tag: string, sql: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  cpSync(SQLITE_MIGRATIONS, folder, { recursive: true });
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

/** A migrated in-memory SQLite database with one user, signed in. */
async function openSeededSqlite(): Promise<Db> {
  const db = await openDatabase(':memory:');
  await migrateDatabase(db);
  const now = Date.now();
  sqliteConnection(db).exec(`
    INSERT INTO users (id, email, password_hash, role, created_at, updated_at)
      VALUES ('u1', 'ada@example.com', 'x', 'user', ${now}, ${now});
    INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, expires_at)
      VALUES ('s1', 'u1', ${now}, ${now}, ${now + 1e6}, ${now + 1e7});
    INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
      VALUES ('r1', 's1', 'hash', ${now}, ${now + 1e6});`);
  return db;
}

const count = (db: Db, table: string) =>
  // eslint-disable-next-line no-restricted-syntax -- better-sqlite3's own statement: these tests are about SQLite
  sqliteConnection(db).prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

test('a table rebuild keeps the rows that reference the rebuilt table', async () => {
  const db = await openSeededSqlite();
  try {
    expect(await migrateDatabase(db, migrationsWith('0100_rebuild_users', REBUILD_USERS))).toBe(1);

    expect(count(db, 'users')).toBe(1);
    expect(count(db, 'sessions')).toBe(1);
    expect(count(db, 'refresh_tokens')).toBe(1);
    const sqlite = sqliteConnection(db);
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
  } finally {
    await db.close();
  }
});

test("drizzle's plain migrator would have deleted every session (the pitfall is real)", async () => {
  const db = await openSeededSqlite();
  try {
    migrate(drizzle(sqliteConnection(db)), {
      migrationsFolder: migrationsWith('0100_rebuild_users', REBUILD_USERS),
    });

    expect(count(db, 'users')).toBe(1);
    expect(count(db, 'sessions')).toBe(0);
  } finally {
    await db.close();
  }
});

test('refuses a migration that leaves rows pointing at missing parents', async () => {
  const db = await openSeededSqlite();
  try {
    const orphaning = migrationsWith('0100_orphan', "DELETE FROM users WHERE id = 'u1';");
    await expect(migrateDatabase(db, orphaning)).rejects.toThrow(MigrationError);
    await expect(migrateDatabase(db, orphaning)).rejects.toThrow(/sessions → users/);
    expect(sqliteConnection(db).pragma('foreign_keys', { simple: true })).toBe(1);
  } finally {
    await db.close();
  }
});
