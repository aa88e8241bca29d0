// The two schemas must describe the same database: one set of queries (db/client.ts) runs on
// both. This compares them table by table, and the types the queries see, column by column.
import { getTableConfig as pgConfig, type PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { expect, expectTypeOf, test } from 'vitest';
import type { Tables } from '../../db/client.ts';
import * as pg from '../../db/schema.postgres.ts';
import * as sqlite from '../../db/schema.ts';

type Config = ReturnType<typeof sqliteConfig> | ReturnType<typeof pgConfig>;

/** What both engines must agree on, in engine-neutral terms. */
function shape(config: Config) {
  const columnName = (column: { name: string }) => column.name;
  return {
    name: config.name,
    columns: config.columns
      .map((column) => ({
        name: column.name,
        // The value the app reads and writes: a Date is a Date on both, whatever the SQL type.
        js: column.dataType,
        enum: column.enumValues ?? null,
        notNull: column.notNull,
        primaryKey: column.primary,
        unique: column.isUnique,
        hasDefault: column.hasDefault,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    indexes: config.indexes
      .map((index) => ({
        name: index.config.name ?? '',
        unique: index.config.unique ?? false,
        columns: index.config.columns.map((column) => columnName(column as { name: string })),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    foreignKeys: config.foreignKeys
      .map((key) => {
        const reference = key.reference();
        return {
          columns: reference.columns.map(columnName),
          table: (reference.foreignTable as unknown as { [k: symbol]: string })[Symbol.for('drizzle:Name')],
          foreignColumns: reference.foreignColumns.map(columnName),
          onDelete: key.onDelete ?? 'no action',
        };
      })
      .sort((a, b) => a.columns.join().localeCompare(b.columns.join())),
  };
}

const tablesOf = (module: object) =>
  Object.entries(module)
    .filter(([, value]) => typeof value === 'object' && value !== null && Symbol.for('drizzle:IsDrizzleTable') in value)
    .map(([key]) => key)
    .sort();
const tableNames = tablesOf(sqlite) as (keyof Tables)[];

test('both schemas define exactly the tables the queries use', () => {
  const tablesOf = (module: object) =>
    Object.entries(module)
      .filter(
        ([, value]) => typeof value === 'object' && value !== null && Symbol.for('drizzle:IsDrizzleTable') in value,
      )
      .map(([key]) => key)
      .sort();
  expect(tablesOf(sqlite)).toEqual([...tableNames].sort());
  expect(tablesOf(pg)).toEqual([...tableNames].sort());
});

test.each(tableNames)('%s: same columns, nullability, keys, indexes and foreign keys on both engines', (name) => {
  const onSqlite = shape(sqliteConfig(sqlite[name] as SQLiteTable));
  const onPostgres = shape(pgConfig(pg[name] as PgTable));
  expect(onPostgres).toEqual(onSqlite);
});

test('the queries see the same row types on both engines', () => {
  expectTypeOf<(typeof pg.users)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.users)['$inferSelect']>();
  expectTypeOf<(typeof pg.sessions)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.sessions)['$inferSelect']>();
  expectTypeOf<(typeof pg.refreshTokens)['$inferSelect']>().toEqualTypeOf<
    (typeof sqlite.refreshTokens)['$inferSelect']
  >();
  expectTypeOf<(typeof pg.auditEvents)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.auditEvents)['$inferSelect']>();
  expectTypeOf<(typeof pg.emailTokens)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.emailTokens)['$inferSelect']>();
  expectTypeOf<(typeof pg.outbox)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.outbox)['$inferSelect']>();
  expectTypeOf<(typeof pg.devMailbox)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.devMailbox)['$inferSelect']>();
  expectTypeOf<(typeof pg.notes)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.notes)['$inferSelect']>();
  expectTypeOf<(typeof pg.revocationFeed)['$inferSelect']>().toEqualTypeOf<
    (typeof sqlite.revocationFeed)['$inferSelect']
  >();
  expectTypeOf<(typeof pg.rateLimits)['$inferSelect']>().toEqualTypeOf<(typeof sqlite.rateLimits)['$inferSelect']>();
});
