// The database each test gets, on the engine this run uses. `npm test` uses SQLite in
// memory; TEST_DATABASE_URL=postgres://… runs the same tests on that server (each test on
// a fresh database cloned from a migrated template, dropped at close), and
// TEST_DATABASE_URL=pglite on PGlite, PostgreSQL compiled to WebAssembly, in-process.
import { randomBytes } from 'node:crypto';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { type Db, dialectOf, openDatabase } from '../../db/client.ts';
import { POSTGRES_MIGRATIONS } from '../../db/migrate.ts';
import { openPostgres, postgresDb } from '../../db/postgres.ts';

export type TestEngine = 'sqlite' | 'postgres' | 'pglite';

const url = process.env.TEST_DATABASE_URL ?? '';
export const TEST_ENGINE: TestEngine =
  url === '' ? 'sqlite' : url === 'pglite' ? 'pglite' : dialectOf(url) === 'postgres' ? 'postgres' : 'sqlite';

/** What global setup migrates once; each test's database is a copy (CREATE DATABASE … TEMPLATE). */
export const TEMPLATE_DATABASE = 'trpc_starter_test_template';
const TEST_DATABASE_PREFIX = 'trpc_starter_test_';

/** `url` with another database name. */
export const withDatabase = (serverUrl: string, name: string) => {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};

/** Runs `fn` on one connection to the server's maintenance database (TEST_DATABASE_URL's own). */
export async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the PostgreSQL server, migrated; dropped by `drop()`. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${TEST_DATABASE_PREFIX}${randomBytes(6).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`));
  return {
    url: withDatabase(url, name),
    drop: () => onServer(async (client) => void (await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

/** Drops every database a test run made (the template too), including an interrupted run's. */
export async function dropTestDatabases(): Promise<void> {
  await onServer(async (client) => {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${TEST_DATABASE_PREFIX}%`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}

/** Global setup: migrates the template every test's database is cloned from. */
export async function prepareTemplate(): Promise<void> {
  await dropTestDatabases();
  await onServer((client) => client.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`));
  const template = openPostgres(withDatabase(url, TEMPLATE_DATABASE), 1);
  await template.migrate();
  await template.close();
}

async function openPglite(): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = new PGlite();
  type Connection = Parameters<Parameters<typeof pglite.transaction>[0]>[0];
  return postgresDb({
    pool: pglite,
    // PGlite is one connection: its transaction holds it, and other queries wait.
    runInTransaction: (fn) => pglite.transaction((tx: Connection) => fn(tx)),
    // One connection, in this process: every write is already applied here.
    listen: () => undefined,
    migrate: async (migrationsFolder = POSTGRES_MIGRATIONS) => {
      const applied = async () => {
        const { rows } = await pglite.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'drizzle'",
        );
        if (rows[0]!.n === 0) return 0;
        return (await pglite.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations'))
          .rows[0]!.n;
      };
      const before = await applied();
      await migrate(drizzle({ client: pglite }), { migrationsFolder });
      return (await applied()) - before;
    },
    close: () => pglite.close(),
  });
}

/** A fresh database for one test, migrated, on this run's engine; `close()` it (startServer does). */
export async function openTestDatabase(): Promise<Db> {
  if (TEST_ENGINE === 'pglite') {
    const db = await openPglite();
    await db.migrate();
    return db;
  }
  if (TEST_ENGINE === 'postgres') {
    const { url: databaseUrl, drop } = await createPostgresDatabase();
    const db = await openDatabase(databaseUrl);
    const close = db.close;
    return Object.assign(db, {
      close: async () => {
        await close();
        await drop();
      },
    });
  }
  const db = await openDatabase(':memory:');
  await db.migrate();
  return db;
}
