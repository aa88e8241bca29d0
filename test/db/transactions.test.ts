// What db.transaction's options change, on the engine this run uses.
import { sql } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { TEST_ENGINE, openTestDatabase } from '../helpers/database.ts';

test.runIf(TEST_ENGINE === 'postgres')(
  'asyncCommit skips the wait for the disk in that transaction only, and still commits',
  async () => {
    const db = await openTestDatabase();
    try {
      const setting = async () =>
        (
          await db.select({ value: sql<string>`current_setting('synchronous_commit')` }).from(sql`(SELECT 1) AS one`)
        )[0]!.value;
      const { users } = db.tables;
      const now = new Date();
      const inside = await db.transaction(
        async () => {
          await db
            .insert(users)
            .values({ email: 'async@example.com', passwordHash: 'x', createdAt: now, updatedAt: now });
          return setting();
        },
        { asyncCommit: true, isolation: 'read committed' },
      );
      expect(inside).toBe('off');
      // SET LOCAL ends with its transaction: the pooled connection goes back as it came.
      const after = await Promise.all(Array.from({ length: 12 }, setting));
      expect(new Set(after)).toEqual(new Set(['on']));
      expect(await db.transaction(setting)).toBe('on');
      expect(await db.select({ email: users.email }).from(users)).toEqual([{ email: 'async@example.com' }]);
    } finally {
      await db.close();
    }
  },
);
