// SQLite through better-sqlite3: the default engine. Edit it to tune SQLite (the pragmas
// below are the ones that matter for a web server).
//
// better-sqlite3 answers synchronously, and its own transactions cannot await. The app's
// queries are asynchronous (PostgreSQL's are), so they reach the connection through
// drizzle's sqlite-proxy driver, and a transaction holds the connection: while one is
// open, a query from any other request waits for it to end instead of joining it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { is } from 'drizzle-orm';
import { drizzle as drizzleSync } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { drizzle } from 'drizzle-orm/sqlite-proxy';
import { LRUCache } from 'lru-cache';
import type { Db } from './client.ts';
import { sqliteFileError } from './errors.ts';
import { MigrationError, SQLITE_MIGRATIONS } from './migrate.ts';
import * as schema from './schema.ts';

/** Runs `step`; an error about the file itself becomes a DatabaseUrlError saying what to do. */
function orFileError<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw sqliteFileError(error, path) ?? error;
  }
}

/** The connection, with the pragmas a web server needs. */
function connect(path: string, isFile: boolean): Database.Database {
  if (isFile) {
    // It holds password and refresh-token hashes. The modes apply only to what is created
    // here: a folder that exists (the project root, say) keeps the mode its owner chose.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // SQLite gives the -wal, -shm and -journal files the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const sqlite = new Database(path);
  try {
    // Wait for a competing writer (a script, a second process) instead of failing with SQLITE_BUSY.
    sqlite.pragma('busy_timeout = 5000');
    // WAL lets readers run while a refresh rotation writes; NORMAL is durable in WAL
    // mode except for the last transactions before a power loss (never corruption).
    if (isFile) useWal(sqlite);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    return sqlite;
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

interface OpenTransaction {
  ended: Promise<void>;
  depth: number;
  /** afterCommit's callbacks, run once the outermost transaction commits. */
  onCommit: (() => void)[];
}

/**
 * Opens (and creates, with its folder) the database at `path`; `:memory:` works for tests.
 * What it creates only its owner can read: folders 0700, the file 0600.
 */
export function openSqlite(path: string): Db {
  const isFile = path !== ':memory:';
  const sqlite = orFileError(path, () => connect(path, isFile));

  // The query builder makes a few dozen distinct statements; compiling each once matters
  // on the refresh path. The bound only stops a query built from unbounded input growing it.
  const statements = new LRUCache<string, Database.Statement>({ max: 500 });
  const prepare = (text: string) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = sqlite.prepare(text);
      if (statement.reader) statement.raw(true);
      statements.set(text, statement);
    }
    return statement;
  };

  const inTransaction = new AsyncLocalStorage<OpenTransaction>();
  let open: OpenTransaction | undefined;

  const orm = drizzle(
    async (text, params, method) => {
      // Checked and run in one synchronous step, so no transaction can begin in between.
      while (open && inTransaction.getStore() !== open) await open.ended;
      const statement = prepare(text);
      if (!statement.reader) {
        statement.run(params);
        return { rows: [] };
      }
      return { rows: method === 'get' ? statement.get(params) : statement.all(params) } as { rows: unknown[] };
    },
    { schema },
  );

  async function transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = inTransaction.getStore();
    if (outer) return savepoint(outer, fn);
    while (open) await open.ended;
    let end!: () => void;
    const tx: OpenTransaction = { ended: new Promise((resolve) => (end = resolve)), depth: 0, onCommit: [] };
    open = tx;
    try {
      return await inTransaction.run(tx, async () => {
        // IMMEDIATE takes the write lock now: another process's writer waits (busy_timeout)
        // rather than both reading and one failing at its first write.
        sqlite.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn();
          sqlite.exec('COMMIT');
          return result;
        } catch (error) {
          if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
          tx.onCommit = [];
          throw error;
        }
      });
    } finally {
      open = undefined;
      // On Node 20 an enabled AsyncLocalStorage slows every promise in the process (2-3x,
      // through promise hooks): it is enabled only while a transaction runs.
      inTransaction.disable();
      end();
      for (const callback of tx.onCommit) callback();
    }
  }

  async function savepoint<T>(tx: OpenTransaction, fn: () => Promise<T>): Promise<T> {
    const name = `sp${++tx.depth}`;
    const callbacks = tx.onCommit.length;
    sqlite.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      sqlite.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      sqlite.exec(`ROLLBACK TO ${name}`);
      sqlite.exec(`RELEASE ${name}`);
      tx.onCommit.length = callbacks;
      throw error;
    } finally {
      tx.depth--;
    }
  }

  const db = Object.assign(orm, {
    engine: 'sqlite' as const,
    // The tables alone (the module also exports their enums), as on PostgreSQL.
    tables: Object.fromEntries(Object.entries(schema).filter(([, value]) => is(value, SQLiteTable))),
    transaction,
    afterCommit: (callback: () => void) => {
      const tx = inTransaction.getStore();
      if (tx) tx.onCommit.push(callback);
      else callback();
    },
    notify: async () => {},
    listen: () => undefined,
    ping: async () => {
      prepare('SELECT 1').get();
    },
    migrate: async (folder = SQLITE_MIGRATIONS) => orFileError(path, () => migrateSqlite(sqlite, folder)),
    appliedMigrations: async () => countAppliedIn(sqlite),
    close: async () => {
      sqlite.close();
    },
  }) as unknown as Db;
  connections.set(db, sqlite);
  return db;
}

/**
 * Switches the file to WAL (it stays so). Switching needs the file to itself for a moment,
 * and SQLite answers SQLITE_BUSY at once, without waiting, when another process is writing
 * (two instances starting together on a new file): so it tries again, for up to 5 s.
 */
function useWal(sqlite: Database.Database) {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      sqlite.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // boot only: a blocking 20 ms pause
    }
  }
}

const connections = new WeakMap<Db, Database.Database>();

/** The better-sqlite3 connection behind a SQLite Db, for what only SQLite has (pragmas, backups). */
export function sqliteConnection(db: Db): Database.Database {
  const connection = connections.get(db);
  if (!connection) throw new Error(`This is a ${db.engine} database, not SQLite.`);
  return connection;
}

/**
 * drizzle-kit rebuilds a table (create new, copy, drop old, rename) for many SQLite
 * changes and wraps the rebuild in `PRAGMA foreign_keys=OFF/ON`. The migrator runs every
 * migration inside one transaction, where that pragma is a no-op, so dropping the old
 * `users` table would cascade-delete every session. Foreign keys are therefore switched
 * off around the whole run (outside the transaction, where the pragma works) and the
 * result is checked before they are switched back on.
 */
function countAppliedIn(sqlite: Database.Database): number {
  const table = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (!table) return 0;
  return (sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n;
}

function migrateSqlite(sqlite: Database.Database, migrationsFolder: string): number {
  const countApplied = () => countAppliedIn(sqlite);
  let before = countApplied();
  sqlite.pragma('foreign_keys = OFF');
  try {
    try {
      migrate(drizzleSync(sqlite), { migrationsFolder });
    } catch (error) {
      // Two processes starting at once on a new file both read "nothing applied" before
      // either takes the write lock; the second then fails on a table the first created.
      // The first has committed by then (the lock waited for it): a second pass reads its
      // migrations and finds nothing left to do.
      if (countApplied() === before) throw error;
      before = countApplied();
      migrate(drizzleSync(sqlite), { migrationsFolder });
    }
    const violations = sqlite.pragma('foreign_key_check') as { table: string; parent: string }[];
    if (violations.length > 0) {
      const tables = [...new Set(violations.map((v) => `${v.table} → ${v.parent}`))].join(', ');
      throw new MigrationError(
        `Migration left ${violations.length} rows pointing at missing parents (${tables}). ` +
          'Fix the migration before starting the server.',
      );
    }
  } finally {
    sqlite.pragma('foreign_keys = ON');
  }
  return countApplied() - before;
}
