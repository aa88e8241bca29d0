// The revocation feed under stress: thousands of sessions ended at once, notices nobody
// should trust, a transaction that rolls back, and (PostgreSQL) a backend killed in the
// middle of a transaction. The two-process behaviour is in test/multi-instance/.
import pg from 'pg';
import { afterEach, expect, test } from 'vitest';
import type { Db } from '../../../db/client.ts';
import { createId } from '../../../db/ids.ts';
import { createRevocations } from '../../../server/auth/revocations.ts';
import { createSessionStore } from '../../../server/auth/sessions.ts';
import { testConfig } from '../../helpers/config.ts';
import { TEST_ENGINE, openTestDatabase } from '../../helpers/database.ts';

const config = testConfig();
const databases: Db[] = [];
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.close()));
});

async function setUp() {
  const db = await openTestDatabase();
  databases.push(db);
  const revocations = createRevocations(db, config.jwt.accessTokenTtl);
  const sessions = createSessionStore(db, config.jwt, revocations);
  const now = new Date();
  const [user] = await db
    .insert(db.tables.users)
    .values({ email: `feed-${createId()}@example.com`, passwordHash: 'x', createdAt: now, updatedAt: now })
    .returning();
  return { db, revocations, sessions, user: user!, now };
}

test('ending 20,000 sessions of one user at once works, and every one is refused', { timeout: 60_000 }, async () => {
  const { db, revocations, sessions, user, now } = await setUp();
  const ids = Array.from({ length: 20_000 }, createId);
  const later = new Date(now.getTime() + 3_600_000);
  for (let i = 0; i < ids.length; i += 1000) {
    await db.insert(db.tables.sessions).values(
      ids.slice(i, i + 1000).map((id) => ({
        id,
        userId: user.id,
        createdAt: now,
        lastUsedAt: now,
        idleExpiresAt: later,
        expiresAt: later,
      })),
    );
  }
  // One statement per 500 feed rows: a single INSERT of them all passes SQLite's and
  // PostgreSQL's limit on bound parameters, and the reset that ends them would fail.
  const ended = await sessions.revokeUserSessions(user.id, 'password_changed', now);
  expect(ended).toHaveLength(ids.length);
  expect(ids.every((id) => revocations.isSessionRevoked(id))).toBe(true);
});

test('a revocation in a transaction that rolls back revokes nothing, here or in the feed', async () => {
  const { db, revocations, now } = await setUp();
  await expect(
    db.transaction(async () => {
      await revocations.revokeSessions(['rolled-back'], now);
      throw new Error('the change failed after the revocation');
    }),
  ).rejects.toThrow('the change failed');
  expect(revocations.isSessionRevoked('rolled-back')).toBe(false);
  expect(await db.select().from(db.tables.revocationFeed)).toEqual([]);
  // And a committed one is applied here at the commit.
  await db.transaction(() => revocations.revokeSessions(['committed'], now));
  expect(revocations.isSessionRevoked('committed')).toBe(true);
});

test.skipIf(TEST_ENGINE !== 'postgres')(
  'PostgreSQL: a forged or malformed NOTIFY neither crashes the process nor changes what is revoked',
  async () => {
    const { db, revocations, now } = await setUp();
    const listening = createRevocations(db, config.jwt.accessTokenTtl);
    listening.start();
    try {
      await revocations.revokeSessions(['real'], now);
      await expect.poll(() => listening.isSessionRevoked('real')).toBe(true);
      const intruder = new pg.Client({ connectionString: databaseUrlOf(db) });
      await intruder.connect();
      try {
        for (const payload of ['garbage', 'null', '{"at":"x"}', '{"sessionId":"forged","at":"2026-01-01"}', '999999']) {
          await intruder.query('SELECT pg_notify($1, $2)', ['revocations', payload]);
        }
      } finally {
        await intruder.end();
      }
      // Give the notices time to arrive; then the state is what the feed says, nothing else.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(listening.isSessionRevoked('real')).toBe(true);
      expect(listening.isSessionRevoked('forged')).toBe(false);
      await revocations.revokeSessions(['after'], now);
      await expect.poll(() => listening.isSessionRevoked('after')).toBe(true);
    } finally {
      await listening.stop();
    }
  },
);

test.skipIf(TEST_ENGINE !== 'postgres')(
  'PostgreSQL: a backend killed in the middle of a transaction fails that transaction, not the process',
  async () => {
    const { db } = await setUp();
    const killer = new pg.Client({ connectionString: databaseUrlOf(db) });
    await killer.connect();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      const transaction = db.transaction(async () => {
        await db.select().from(db.tables.users);
        // Idle in the transaction until its backend has been killed.
        await held;
        await db.select().from(db.tables.users);
      });
      const idleInTransaction =
        "FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'";
      await expect.poll(async () => (await killer.query(`SELECT 1 ${idleInTransaction}`)).rowCount).toBe(1);
      const killed = await killer.query(`SELECT pg_terminate_backend(pid) ${idleInTransaction}`);
      expect(killed.rowCount).toBe(1);
      release();
      await expect(transaction).rejects.toThrow();
      // The pool replaces the connection: the next transaction works.
      await db.transaction(async () => void (await db.select().from(db.tables.users)));
    } finally {
      release();
      await killer.end();
    }
  },
);

/** The URL a test database was opened on (test/helpers/database.ts keeps it on the Db). */
function databaseUrlOf(db: Db): string {
  return (db as Db & { url: string }).url;
}
