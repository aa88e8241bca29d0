// The step between a correct password and a session, for an account with a second
// factor: a random token in an HttpOnly cookie (a native client gets it in the body),
// stored as SHA-256, bound to the account and the password hash the first step checked,
// valid for a few minutes and used up by the sign-in it completes. It is not a session:
// no access token, no refresh token, and no procedure but completeSignIn accepts it.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';

/** Long enough to find the phone and type a code; short enough not to matter if left open. */
export const CHALLENGE_TTL_SECONDS = 300;

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const TOKEN_FORMAT = /^[\w-]{43}$/;

export function createSignInChallenges(db: Db) {
  const { signInChallenges } = db.tables;
  return {
    /** A new challenge for `userId`; an earlier one of the same account stops working. */
    async issue(userId: string, passwordHash: string, now: Date) {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_SECONDS * 1000);
      await db.transaction(async () => {
        await db.delete(signInChallenges).where(eq(signInChallenges.userId, userId));
        await db
          .insert(signInChallenges)
          .values({ tokenHash: hashToken(token), userId, passwordHash, createdAt: now, expiresAt });
      });
      return { token, expiresAt };
    },

    /** The live challenge `token` names, or undefined (unknown, used or expired). */
    async find(token: string | undefined, now: Date) {
      if (!token || !TOKEN_FORMAT.test(token)) return undefined;
      const [row] = await db
        .select({
          id: signInChallenges.id,
          userId: signInChallenges.userId,
          passwordHash: signInChallenges.passwordHash,
        })
        .from(signInChallenges)
        .where(and(eq(signInChallenges.tokenHash, hashToken(token)), gt(signInChallenges.expiresAt, now)));
      return row;
    },

    /** Uses it up; false when another request did first. */
    async consume(id: string): Promise<boolean> {
      const deleted = await db
        .delete(signInChallenges)
        .where(eq(signInChallenges.id, id))
        .returning({ id: signInChallenges.id });
      return deleted.length > 0;
    },

    /** Ends the user's open challenges (their password changed, or a factor was removed). */
    async revokeForUser(userId: string) {
      await db.delete(signInChallenges).where(eq(signInChallenges.userId, userId));
    },

    async prune(now: Date): Promise<number> {
      const deleted = await db
        .delete(signInChallenges)
        .where(lt(signInChallenges.expiresAt, now))
        .returning({ id: signInChallenges.id });
      return deleted.length;
    },
  };
}

export type SignInChallenges = ReturnType<typeof createSignInChallenges>;
