// Accounts and their credentials: look-up by e-mail and the password check.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users } from '../../db/schema.ts';
import type { PasswordHasher } from './passwords.ts';

/** The columns of a user that may leave the server: never `select *` a user. */
export const publicUserColumns = { id: users.id, email: users.email, role: users.role };
export type PublicUser = { id: string; email: string; role: (typeof users.$inferSelect)['role'] };

/**
 * @example
 * const accounts = createAccounts(db, passwords)
 * await accounts.verifyCredentials('ada@example.com', 'correct horse', new Date()) // => PublicUser | null
 */
/**
 * Inserts an account whose address is verified (sign-up completed, `npm run user:create`,
 * test fixtures); undefined when the address is taken.
 *
 * @example insertVerifiedUser(db, { email, passwordHash, role: 'admin' }, new Date())
 */
export function insertVerifiedUser(
  db: Db,
  account: { email: string; passwordHash: string; role?: PublicUser['role'] },
  now: Date,
): PublicUser | undefined {
  return db
    .insert(users)
    .values({ ...account, emailVerifiedAt: now, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning(publicUserColumns)
    .get();
}

export function createAccounts(db: Db, passwords: PasswordHasher) {
  const findByEmail = db
    .select({
      ...publicUserColumns,
      passwordHash: users.passwordHash,
      emailVerifiedAt: users.emailVerifiedAt,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .where(eq(users.email, sql.placeholder('email')))
    .prepare();

  const findById = db
    .select(publicUserColumns)
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare();

  return {
    /** The public fields of a user, or undefined. */
    getUser: (id: string) => findById.get({ id }),

    /** The account using `email`, or undefined; never send what it returns to a client. */
    findByEmail: (email: string) => findByEmail.get({ email }),

    /**
     * The user and the password hash that matched (give it to startSession, which refuses
     * if the password changes or the account is disabled meanwhile), or null for an unknown
     * e-mail, a wrong password, an unverified or a disabled account (same cost and answer:
     * the hash is always verified, so no caller can tell which).
     */
    async verifyCredentials(
      email: string,
      password: string,
      now: Date,
    ): Promise<{ user: PublicUser; passwordHash: string } | null> {
      const row = findByEmail.get({ email });
      const { ok, needsRehash } = await passwords.verify(row?.passwordHash ?? null, password);
      // An address nobody proved to own, or an account an admin disabled, cannot sign in:
      // answered like a wrong password, after the same hash.
      if (!ok || !row || !row.emailVerifiedAt || row.disabledAt) return null;
      const user = { id: row.id, email: row.email, role: row.role };
      if (!needsRehash) return { user, passwordHash: row.passwordHash };
      // Stored with older (cheaper) parameters: upgrade while we hold the password, unless
      // it changed while we were hashing.
      const passwordHash = await passwords.hash(password);
      const upgraded = db
        .update(users)
        .set({ passwordHash, updatedAt: now })
        .where(and(eq(users.id, row.id), eq(users.passwordHash, row.passwordHash)))
        .run().changes;
      return { user, passwordHash: upgraded ? passwordHash : row.passwordHash };
    },
  };
}
