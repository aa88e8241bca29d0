// The load balancer's probes, over a real server: /healthz while the process answers,
// /readyz only while the database answers and holds every migration this code ships.
import { type SQL, sql } from 'drizzle-orm';
import { expect, test } from 'vitest';
import type { Db } from '../../../db/client.ts';
import { sqliteConnection } from '../../../db/sqlite.ts';
import { startServersPerTest } from '../../helpers/server.ts';

const start = startServersPerTest();

async function run(db: Db, statement: string) {
  if (db.engine === 'sqlite') return void sqliteConnection(db).exec(statement);
  // PostgreSQL (and PGlite): the app's own connection, through a statement both parse alike.
  await db.transaction(async () => {
    await (db as unknown as { execute: (query: SQL) => Promise<unknown> }).execute(sql.raw(statement));
  });
}

const probe = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
};

test('both answer 200 when all is well, outside tRPC, uncached, to GET and HEAD only', async () => {
  const server = await start();
  for (const path of ['/healthz', '/readyz']) {
    const res = await probe(`${server.url}${path}`);
    expect(res.status, path).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ok' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    const head = await probe(`${server.url}${path}`, { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);
    expect((await probe(`${server.url}${path}`, { method: 'POST' })).status).toBe(405);
    // No Origin, no cookie, a query string: a load balancer sends no more.
    expect((await probe(`${server.url}${path}?probe=1`)).status).toBe(200);
  }
});

test('readyz answers 503 with the reason when a migration is missing, healthz still 200', async () => {
  const server = await start();
  const table = server.db.engine === 'sqlite' ? '__drizzle_migrations' : 'drizzle.__drizzle_migrations';
  await run(server.db, `DELETE FROM ${table} WHERE created_at = (SELECT max(created_at) FROM ${table})`);
  const res = await probe(`${server.url}/readyz`);
  expect(res.status).toBe(503);
  expect(JSON.parse(res.text)).toEqual({
    status: 'unavailable',
    problem: '1 database migration(s) not applied: restart to apply them',
  });
  expect((await probe(`${server.url}/healthz`)).status).toBe(200);
});

test('readyz answers 503 when the database does not answer, and the process goes on', async () => {
  const server = await start();
  await server.db.close();
  const res = await probe(`${server.url}/readyz`);
  expect(res.status).toBe(503);
  expect(JSON.parse(res.text)).toEqual({ status: 'unavailable', problem: 'the database does not answer' });
  expect((await probe(`${server.url}/healthz`)).status).toBe(200);
});
