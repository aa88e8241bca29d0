// PostgreSQL through node-postgres (`pg`), chosen by a postgres:// DATABASE_URL. Edit it
// to size the pool or tune the retry of aborted transactions.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { type Db, TransactionConflict, type TransactionOptions } from './client.ts';
import { POSTGRES_MIGRATIONS } from './migrate.ts';
import * as schema from './schema.postgres.ts';

/** What a query needs: a pool, a client checked out of it, or an embedded engine. */
export interface Queryable {
  query(...args: never[]): Promise<unknown>;
}

/** How an engine opens a transaction on one connection and hands it to `fn`. */
export type RunInTransaction = <T>(
  fn: (connection: Queryable) => Promise<T>,
  options: Required<TransactionOptions>,
) => Promise<T>;

/** SQLSTATEs after which PostgreSQL asks the client to run the whole transaction again. */
const RETRYABLE = new Set(['40001' /* serialization_failure */, '40P01' /* deadlock_detected */]);
const MAX_ATTEMPTS = 20;

/** Whether PostgreSQL aborted the transaction for a conflict (drizzle wraps its error: see `cause`). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof TransactionConflict) return true;
  for (let e = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if (RETRYABLE.has((e as { code?: string }).code ?? '')) return true;
  }
  return false;
}

/**
 * Wraps a PostgreSQL connection source as the app's Db. Queries made while a transaction
 * runs go to that transaction's connection (found through AsyncLocalStorage), so the shared
 * code uses one `db` everywhere, as it does on SQLite.
 */
export function postgresDb(parts: {
  pool: Queryable;
  /** Drizzle's driver for this client (node-postgres, or PGlite's in tests), with the schema. */
  driver: (client: Queryable) => unknown;
  runInTransaction: RunInTransaction;
  listen: Db['listen'];
  migrate: (migrationsFolder?: string) => Promise<number>;
  close: () => Promise<void>;
}): Db {
  type Context = { connection: Queryable; depth: number; onCommit: (() => void)[] };
  const current = new AsyncLocalStorage<Context>();
  const client = {
    query: (...args: never[]) => (current.getStore()?.connection ?? parts.pool).query(...args),
  };
  const orm = parts.driver(client);
  let closing: Promise<void> | undefined;

  /** Transactions running: AsyncLocalStorage is enabled only while there are (see db/sqlite.ts). */
  let running = 0;

  async function transaction<T>(
    fn: () => Promise<T>,
    { isolation = 'serializable', asyncCommit = false }: TransactionOptions = {},
  ): Promise<T> {
    const outer = current.getStore();
    if (outer) return savepoint(outer, fn);
    running++;
    try {
      return await transactionWithRetries(fn, { isolation, asyncCommit });
    } finally {
      if (--running === 0) current.disable();
    }
  }

  async function transactionWithRetries<T>(fn: () => Promise<T>, options: Required<TransactionOptions>) {
    for (let attempt = 1; ; attempt++) {
      const onCommit: (() => void)[] = [];
      let result: T;
      try {
        result = await parts.runInTransaction(
          (connection) => current.run({ connection, depth: 0, onCommit }, fn),
          options,
        );
      } catch (error) {
        if (!isRetryable(error) || attempt === MAX_ATTEMPTS) throw error;
        // Conflicting transactions back off by random amounts so they stop meeting.
        await sleep(Math.random() * Math.min(2 ** attempt, 100));
        continue;
      }
      // Committed: outside the try, so a failing callback never looks like a failed commit.
      for (const callback of onCommit) callback();
      return result;
    }
  }

  async function savepoint<T>(tx: Context, fn: () => Promise<T>): Promise<T> {
    const name = `sp${++tx.depth}`;
    const callbacks = tx.onCommit.length;
    const run = (text: string) => (tx.connection.query as (text: string) => Promise<unknown>)(text);
    await run(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      await run(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await run(`ROLLBACK TO SAVEPOINT ${name}`);
      tx.onCommit.length = callbacks;
      throw error;
    } finally {
      tx.depth--;
    }
  }

  return Object.assign(orm as object, {
    engine: 'postgres' as const,
    tables: schema,
    transaction,
    afterCommit: (callback: () => void) => {
      const tx = current.getStore();
      if (tx) tx.onCommit.push(callback);
      else callback();
    },
    notify: async (channel: string, payload: string) => {
      await (client.query as (text: string, values: string[]) => Promise<unknown>)('SELECT pg_notify($1, $2)', [
        channel,
        payload,
      ]);
    },
    listen: parts.listen,
    ping: async () => {
      await (client.query as (text: string) => Promise<unknown>)('SELECT 1');
    },
    migrate: parts.migrate,
    appliedMigrations: async () => {
      const { rows } = await (client.query as (text: string) => Promise<{ rows: { n: string | number }[] }>)(
        "SELECT CASE WHEN to_regclass('drizzle.__drizzle_migrations') IS NULL THEN 0 ELSE (SELECT count(*) FROM drizzle.__drizzle_migrations) END AS n",
      );
      return Number(rows[0]?.n ?? 0);
    },
    // Idempotent, as better-sqlite3's close() is: a restarted test server closes twice.
    close: () => (closing ??= parts.close()),
  }) as unknown as Db;
}

/** Opens a pool on `url`; nothing connects until the first query. */
export function openPostgres(url: string, poolSize = 10): Db {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 });
  // An idle connection the server dropped (a restart, a failover) is replaced by the
  // pool; without a listener its error event would end the process.
  pool.on('error', () => {});
  return postgresDb({
    pool,
    driver: (client) => drizzle({ client: client as pg.Pool, schema }),
    runInTransaction: async (fn, { isolation, asyncCommit }) => {
      const connection = await pool.connect();
      let broken = false;
      // A checked-out client has no error listener of the pool's: a server restart or a
      // killed backend mid-transaction would otherwise end the process. The query fails.
      const onError = () => (broken = true);
      connection.on('error', onError);
      try {
        // One round trip: the simple query protocol takes several statements at once.
        await connection.query(
          (isolation === 'serializable' ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN') +
            (asyncCommit ? '; SET LOCAL synchronous_commit = off' : ''),
        );
        const result = await fn(connection);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        connection.off('error', onError);
        connection.release(broken);
      }
    },
    listen: (channel, handlers) => listenPostgres(url, channel, handlers),
    migrate: (folder = POSTGRES_MIGRATIONS) => migratePostgres(pool, folder),
    close: () => pool.end(),
  });
}

/**
 * LISTEN on a connection of its own (a pooled one would be handed to queries), reconnected
 * with backoff whenever it drops; `onConnect` runs after each (re)connection.
 */
function listenPostgres(url: string, channel: string, handlers: Parameters<Db['listen']>[1]) {
  let stopped = false;
  let client: pg.Client | undefined;
  let delay = 100;
  let timer: NodeJS.Timeout | undefined;
  const connect = async () => {
    // TCP keep-alive, and a query every HEARTBEAT_MS: an idle connection a NAT or load
    // balancer dropped silently would otherwise never say so, and hear nothing for good.
    const attempt = new pg.Client({
      connectionString: url,
      // Named in pg_stat_activity, where its query column soon reads the heartbeat's SELECT 1.
      application_name: `listen:${channel}`,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let retried = false;
    let heartbeat: NodeJS.Timeout | undefined;
    const retry = () => {
      if (retried || stopped) return;
      retried = true;
      clearInterval(heartbeat);
      client = undefined;
      attempt.end().catch(() => {});
      timer = setTimeout(() => void connect(), delay);
      delay = Math.min(delay * 2, 5000);
    };
    attempt.on('notification', (message) => {
      if (message.channel === channel) handlers.onMessage(message.payload ?? '');
    });
    // A server restart or a network cut: 'error' (with no listener it would end the
    // process), then 'end'; either way, connect again.
    attempt.on('error', retry);
    attempt.on('end', retry);
    try {
      await attempt.connect();
      await attempt.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (stopped) return void (await attempt.end());
      client = attempt;
      delay = 100;
      heartbeat = setInterval(() => {
        const timeout = sleep(HEARTBEAT_TIMEOUT_MS).then(() => Promise.reject(new Error('heartbeat timed out')));
        Promise.race([attempt.query('SELECT 1'), timeout]).catch(retry);
      }, HEARTBEAT_MS).unref();
      // What was sent while no connection listened: read again, or connect again to retry.
      await handlers.onConnect();
    } catch {
      retry();
    }
  };
  void connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    const listening = client;
    client = undefined;
    await listening?.end().catch(() => {});
  };
}

const HEARTBEAT_MS = 30_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

/** Any number of instances may boot at once: an advisory lock lets one migrate at a time. */
const MIGRATION_LOCK = 7_262_010;

async function migratePostgres(pool: pg.Pool, migrationsFolder: string): Promise<number> {
  const connection = await pool.connect();
  let broken = false;
  const onError = () => (broken = true);
  connection.on('error', onError);
  try {
    await connection.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const count = async () => {
      const table = await connection.query("SELECT to_regclass('drizzle.__drizzle_migrations') AS t");
      if (table.rows[0]?.t === null) return 0;
      const { rows } = await connection.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
      return Number(rows[0]!.n);
    };
    const before = await count();
    await migrate(drizzle({ client: connection }), { migrationsFolder });
    return (await count()) - before;
  } finally {
    await connection.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    connection.off('error', onError);
    connection.release(broken);
  }
}

/**
 * Creates the database `url` names if the server has none by that name (`npm run setup`);
 * returns whether it did. Connects to the server's `postgres` database to do so, which
 * needs the CREATEDB privilege: without it, the error says so.
 */
export async function createPostgresDatabaseIfMissing(url: string): Promise<boolean> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000' /* invalid_catalog_name */) throw error;
  } finally {
    await probe.end().catch(() => {});
  }
  // Decoded as node-postgres decodes it, so this creates the database it will connect to.
  const name = decodeURI(new URL(url).pathname.slice(1));
  if (!name) throw Object.assign(new Error('DATABASE_URL names no database (postgres://…/name)'), { code: '3D000' });
  const server = new URL(url);
  server.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return true;
  } finally {
    await admin.end();
  }
}

/** A one-line reason for a connection failure, without the URL's password. */
export function describeConnectionError(error: unknown): string | undefined {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ECONNREFUSED') return 'nothing answers at that address: is PostgreSQL running?';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name does not resolve';
  if (code === '28P01' || code === '28000') return `the server refused the credentials (${message})`;
  if (code === '3D000' || code === '42501') return message;
  if (message?.includes('timeout')) return 'the server did not answer within 5 seconds';
  return undefined;
}
