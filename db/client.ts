// Opens the database DATABASE_URL names: SQLite (a file path, `file:…` or `:memory:`,
// the default) or PostgreSQL (`postgres://…`). The app's queries are written once, against
// the Db type below; db/sqlite.ts and db/postgres.ts make each engine answer them with the
// same guarantees, transactions included. To keep one engine only, see the README.
import { type Column, type SQL, sql } from 'drizzle-orm';
import type { BaseSQLiteDatabase, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { DatabaseUrlError } from './errors.ts';
import { openPostgres } from './postgres.ts';
import type * as schema from './schema.ts';
import { openSqlite } from './sqlite.ts';

export type Dialect = 'sqlite' | 'postgres';

/** The tables (every sqliteTable db/schema.ts exports), by the names queries use; each engine has its twin. */
export type Tables = {
  [K in keyof typeof schema as (typeof schema)[K] extends SQLiteTable ? K : never]: (typeof schema)[K];
};

/**
 * The query builder, typed as SQLite's asynchronous one. PostgreSQL's has the same methods
 * for everything the app does; what differs is kept out of the shared code:
 * - results are awaited (or `.execute()`d) and never read with SQLite's `.get()`, `.all()`
 *   or `.run()` (the lint refuses them: eslint.config.js);
 * - comparisons go through drizzle's operators, so dates are converted per column;
 * - raw SQL is only what both engines read alike.
 */
export interface TransactionOptions {
  isolation?: 'serializable' | 'read committed';
  asyncCommit?: boolean;
}

type QueryBuilder = Omit<BaseSQLiteDatabase<'async', unknown, Tables>, 'transaction' | 'batch'>;

export type Db = QueryBuilder & {
  /** Which engine answers (`dialect` is drizzle's own property). */
  readonly engine: Dialect;
  readonly tables: Tables;
  /**
   * Runs `fn` in one transaction, committed if it resolves and rolled back if it throws.
   * Every query made through this db while `fn` runs is part of it (no `tx` to pass on),
   * and the engines agree on what it guarantees: on SQLite the transaction holds the only
   * write lock (BEGIN IMMEDIATE) and other queries of this process wait for it; on
   * PostgreSQL it is SERIALIZABLE and run again when the server aborts it for a conflict.
   * So `fn` may run more than once: keep side effects other than queries idempotent, and
   * await nothing slow (hashing, mail, the network) inside it. Nested calls are savepoints.
   *
   * `isolation: 'read committed'` is for a hot transaction whose writes check what it read
   * (compare-and-set, throwing TransactionConflict when they find it changed): PostgreSQL
   * then takes no predicate locks, which abort many unrelated concurrent transactions.
   *
   * `asyncCommit: true` is for a frequent write whose loss in a database crash costs a
   * user at most a sign-in (a refresh rotation): PostgreSQL then commits without waiting
   * for its WAL flush (`synchronous_commit = off`), so a crash of the database server can
   * lose the last fraction of a second of such transactions, never half of one. SQLite's
   * `synchronous = NORMAL` (db/sqlite.ts) makes the same trade for every transaction.
   */
  transaction<T>(fn: () => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `fn` once the transaction it is called in commits (never if it rolls back, once
   * if it is run again); outside a transaction, at once. For effects outside the database,
   * such as this process's in-memory revocation list.
   */
  afterCommit(fn: () => void): void;
  /**
   * Sends `payload` to every process listening on `channel` when the current transaction
   * commits (PostgreSQL's NOTIFY; at once outside a transaction). Nothing on SQLite, whose
   * processes poll instead (see `listen`).
   */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * PostgreSQL: calls `onMessage` with each payload sent on `channel`, and `onConnect` each
   * time the listening connection is (re)established, to catch up on what a dropped
   * connection missed; returns what stops it. SQLite: undefined (poll the table instead).
   */
  listen(
    channel: string,
    handlers: { onMessage: (payload: string) => void; onConnect: () => Promise<void> },
  ): (() => Promise<void>) | undefined;
  /** One round trip to the engine (readiness checks). */
  ping(): Promise<void>;
  /** Applies pending migrations (from the engine's folder, see migrate.ts); returns how many. */
  migrate(migrationsFolder?: string): Promise<number>;
  /** How many migrations the database records as applied (readiness checks). */
  appliedMigrations(): Promise<number>;
  close(): Promise<void>;
};

export { DatabaseUrlError } from './errors.ts';

/** Thrown inside a transaction whose compare-and-set found the data changed: it is run again. */
export class TransactionConflict extends Error {
  constructor() {
    super('The data changed while the transaction ran; it is run again');
  }
}

/** Which engine a DATABASE_URL names. */
export function dialectOf(url: string): Dialect {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new DatabaseUrlError(
      `DATABASE_URL must be a SQLite file path (data/app.db) or a postgres:// URL, not ${url.split(':')[0]}://…`,
    );
  }
  return 'sqlite';
}

/**
 * Opens (and, for SQLite, creates) the database `url` names.
 *
 * @example
 * const db = await openDatabase('data/app.db')   // or 'postgres://app@127.0.0.1/app'
 * await db.migrate()
 * await db.close()
 */
export async function openDatabase(url: string): Promise<Db> {
  if (dialectOf(url) === 'postgres') return openPostgres(url);
  return openSqlite(url.replace(/^file:/, ''));
}

/**
 * A prepared query's placeholder that `column` converts, as it converts a value (a Date
 * becomes what each engine stores). Comparisons need it: drizzle converts a bare placeholder
 * only in `values()`, and `set()` and `where()` take it inside sql`…`, unconverted.
 *
 * @example db.select().from(sessions).where(gt(sessions.expiresAt, placeholderFor(sessions.expiresAt, 'now'))).prepare()
 */
export const placeholderFor = (column: Column, name: string): SQL => sql`${sql.param(sql.placeholder(name), column)}`;

/** DATABASE_URL for messages and logs: a PostgreSQL password is masked, in either place it may be. */
export function describeDatabase(url: string): string {
  if (dialectOf(url) !== 'postgres') return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Its error would quote the whole URL: say only what it is.
    return 'a postgres:// URL that does not parse (percent-encode special characters in the password)';
  }
  if (parsed.password) parsed.password = '***';
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}
