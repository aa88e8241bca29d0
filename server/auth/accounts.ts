// Accounts and their credentials: look-up by e-mail and the password check.
import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tables } from '../../db/client.ts';
import type { PasswordHasher } from './passwords.ts';

/** The columns of a user that may leave the server: never `select *` a user. */
export const publicUserColumns = ({ users }: Pick<Tables, 'users'>) => ({
  id: users.id,
  email: users.email,
  role: users.role,
});
export type PublicUser = { id: string; email: string; role: Tables['users']['$inferSelect']['role'] };

/**
 * @example
 * const accounts = createAccounts(db, passwords)
 * await accounts.verifyCredentials('ada@example.com', 'correct horse', new Date()) // => PublicUser | null
 */
/**
 * Inserts an account whose address is verified (sign-up completed, `npm run user:create`,
 * test fixtures); undefined when the address is taken.
 *
 * @example await insertVerifiedUser(db, { email, passwordHash, role: 'admin' }, new Date())
 */
export async function insertVerifiedUser(
  db: Db,
  account: { email: string; passwordHash: string; role?: PublicUser['role'] },
  now: Date,
): Promise<PublicUser | undefined> {
  const { users } = db.tables;
  const [user] = await db
    .insert(users)
    .values({ ...account, emailVerifiedAt: now, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning(publicUserColumns(db.tables));
  return user;
}

export function createAccounts(db: Db, passwords: PasswordHasher) {
  const { users } = db.tables;
  const findByEmail = db
    .select({
      ...publicUserColumns(db.tables),
      passwordHash: users.passwordHash,
      emailVerifiedAt: users.emailVerifiedAt,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .where(eq(users.email, sql.placeholder('email')))
    .prepare();

  const findById = db
    .select(publicUserColumns(db.tables))
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare();

  return {
    /** The public fields of a user, or undefined. */
    getUser: async (id: string) => (await findById.execute({ id }))[0],

    /** The account using `email`, or undefined; never send what it returns to a client. */
    findByEmail: async (email: string) => (await findByEmail.execute({ email }))[0],

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
      const [row] = await findByEmail.execute({ email });
      const { ok, needsRehash } = await passwords.verify(row?.passwordHash ?? null, password);
      // An address nobody proved to own, or an account an admin disabled, cannot sign in:
      // answered like a wrong password, after the same hash.
      if (!ok || !row || !row.emailVerifiedAt || row.disabledAt) return null;
      const user = { id: row.id, email: row.email, role: row.role };
      if (!needsRehash) return { user, passwordHash: row.passwordHash };
      // Stored with older (cheaper) parameters: upgrade while we hold the password, unless
      // it changed while we were hashing.
      const passwordHash = await passwords.hash(password);
      const upgraded = await db
        .update(users)
        .set({ passwordHash, updatedAt: now })
        .where(and(eq(users.id, row.id), eq(users.passwordHash, row.passwordHash)))
        .returning({ id: users.id });
      return { user, passwordHash: upgraded.length > 0 ? passwordHash : row.passwordHash };
    },
  };
}
