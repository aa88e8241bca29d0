// The database each test gets, on the engine this run uses. `npm test` uses SQLite in
// memory; TEST_DATABASE_URL=postgres://… runs the same tests on that server (each test on
// a fresh database cloned from a migrated template, dropped at close), and
// TEST_DATABASE_URL=pglite on PGlite, PostgreSQL compiled to WebAssembly, in-process.
import { randomBytes } from 'node:crypto';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { inject } from 'vitest';
import { type Db, dialectOf, openDatabase } from '../../db/client.ts';
import { POSTGRES_MIGRATIONS } from '../../db/migrate.ts';
import * as schema from '../../db/schema.postgres.ts';
import { openPostgres, postgresDb } from '../../db/postgres.ts';

export type TestEngine = 'sqlite' | 'postgres' | 'pglite';

const url = process.env.TEST_DATABASE_URL ?? '';
export const TEST_ENGINE: TestEngine =
  url === '' ? 'sqlite' : url === 'pglite' ? 'pglite' : dialectOf(url) === 'postgres' ? 'postgres' : 'sqlite';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Names this run's databases, so runs side by side on one server never touch each other's. */
    databaseRun: string;
  }
}

const PREFIX = 'trpc_test_';
/** `<seconds since the epoch>_<random>`: the time lets a later run drop what an interrupted one left. */
export const newRunId = () => `${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
/** What global setup migrates once per run; each test's database is a copy (CREATE DATABASE … TEMPLATE). */
const templateOf = (run: string) => `${PREFIX}${run}_template`;

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
  const run = inject('databaseRun');
  const name = `${PREFIX}${run}_${randomBytes(6).toString('hex')}`;
  // PostgreSQL copies a template for one CREATE DATABASE at a time (a second one fails with
  // "source database is being accessed by other users"): test files take turns.
  await onServer(async (client) => {
    await client.query('SELECT pg_advisory_lock(7262011)');
    await client.query(`CREATE DATABASE "${name}" TEMPLATE "${templateOf(run)}"`);
  });
  return {
    url: withDatabase(url, name),
    drop: () => onServer(async (client) => void (await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

/** Drops the databases of run `run`, or those runs older than two hours left (interrupted). */
export async function dropTestDatabases(run?: string): Promise<void> {
  await onServer(async (client) => {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${PREFIX}%`,
    ]);
    const staleBefore = Date.now() / 1000 - 2 * 3600;
    for (const { datname } of rows) {
      const [seconds, random] = datname.slice(PREFIX.length).split('_');
      const isMine = run !== undefined && `${seconds}_${random}` === run;
      if (isMine || Number(seconds) < staleBefore) {
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  });
}

/** Global setup: migrates the template every test's database of run `run` is cloned from. */
export async function prepareTemplate(run: string): Promise<void> {
  await dropTestDatabases();
  await onServer((client) => client.query(`CREATE DATABASE "${templateOf(run)}"`));
  const template = openPostgres(withDatabase(url, templateOf(run)), 1);
  await template.migrate();
  await template.close();
}

/** A migrated PGlite's files, made once per worker: loading them is 4-5x faster than migrating. */
let migratedPglite: Promise<File | Blob> | undefined;

async function openPglite(): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  migratedPglite ??= (async () => {
    const pglite = new PGlite();
    await (await pgliteDb(pglite)).migrate();
    const files = await pglite.dumpDataDir('none');
    await pglite.close();
    return files;
  })();
  return pgliteDb(new PGlite({ loadDataDir: await migratedPglite }));
}

async function pgliteDb(pglite: import('@electric-sql/pglite').PGlite): Promise<Db> {
  type Connection = Parameters<Parameters<typeof pglite.transaction>[0]>[0];
  return postgresDb({
    pool: pglite,
    driver: (client) => drizzle({ client: client as typeof pglite, schema }),
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
      /** For tests that open a connection of their own (to kill a backend, send a NOTIFY). */
      url: databaseUrl,
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
