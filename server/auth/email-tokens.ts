// Tokens that travel in e-mailed links (sign-up, password reset, e-mail change): 32 random
// bytes, stored only as SHA-256, single use, bound to one purpose, address and user, short
// lived, and dead once superseded. Edit the lifetimes in .env (*_TOKEN_TTL), not here.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { EMAIL_TOKEN_PURPOSES } from '../../db/schema.ts';
import type { Config } from '../env.ts';

export type EmailTokenPurpose = (typeof EMAIL_TOKEN_PURPOSES)[number];

/** Why a link was refused; the client only ever hears "invalid or expired". */
export type EmailTokenRefusal = 'unknown' | 'used' | 'expired' | 'wrong_purpose';

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const TOKEN_FORMAT = /^[\w-]{43}$/;

/**
 * @example
 * const links = createEmailTokens(db, config.emailTokenTtl)
 * await db.transaction(async () => {
 *   const { token, expiresAt } = links.issue({ purpose: 'password_reset', email, userId }, now)
 *   await enqueueMail(db, { kind: 'password_reset', data: { link: `…#token=${token}` }, to: email, userId }, { now, expiresAt })
 * })
 * await links.consume(token, 'password_reset', now) // => { ok: true, token: row } | { ok: false, reason }
 */
export function createEmailTokens(db: Db, ttlSeconds: Config['emailTokenTtl']) {
  const { emailTokens } = db.tables;
  return {
    /**
     * A new token. Earlier unused tokens for the same purpose and user (or, for sign-up, the
     * same address) die: only the newest link works. Call it inside the transaction that
     * queues the mail carrying it.
     */
    async issue(target: { purpose: EmailTokenPurpose; email: string; userId: string | null }, now: Date) {
      const owner =
        target.userId === null ? eq(emailTokens.email, target.email) : eq(emailTokens.userId, target.userId);
      await db
        .update(emailTokens)
        .set({ usedAt: now })
        .where(and(eq(emailTokens.purpose, target.purpose), owner, isNull(emailTokens.usedAt)));
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + ttlSeconds[target.purpose] * 1000);
      await db.insert(emailTokens).values({ ...target, tokenHash: hashToken(token), createdAt: now, expiresAt });
      return { token, expiresAt };
    },

    /**
     * Uses a token up: marks it used in the same statement that checks it was not, so two
     * requests racing with one link cannot both succeed. Call it inside the transaction
     * that acts on it, so a failure later gives the link back.
     */
    async consume(token: string, purpose: EmailTokenPurpose, now: Date) {
      if (!TOKEN_FORMAT.test(token)) return { ok: false as const, reason: 'unknown' as EmailTokenRefusal };
      const tokenHash = hashToken(token);
      const [used] = await db
        .update(emailTokens)
        .set({ usedAt: now })
        .where(
          and(
            eq(emailTokens.tokenHash, tokenHash),
            eq(emailTokens.purpose, purpose),
            isNull(emailTokens.usedAt),
            gt(emailTokens.expiresAt, now),
          ),
        )
        .returning();
      if (used) return { ok: true as const, token: used };
      // Refused: say why, for the audit log only.
      const [row] = await db.select().from(emailTokens).where(eq(emailTokens.tokenHash, tokenHash));
      const reason: EmailTokenRefusal = !row
        ? 'unknown'
        : row.purpose !== purpose
          ? 'wrong_purpose'
          : row.usedAt
            ? 'used'
            : 'expired';
      return { ok: false as const, reason, userId: row?.userId ?? null };
    },

    /** The user a live link of `purpose` belongs to, without using it up; null for any other token. */
    async ownerOf(token: string, purpose: EmailTokenPurpose, now: Date): Promise<string | null> {
      if (!TOKEN_FORMAT.test(token)) return null;
      const [row] = await db
        .select({ userId: emailTokens.userId })
        .from(emailTokens)
        .where(
          and(
            eq(emailTokens.tokenHash, hashToken(token)),
            eq(emailTokens.purpose, purpose),
            isNull(emailTokens.usedAt),
            gt(emailTokens.expiresAt, now),
          ),
        );
      return row?.userId ?? null;
    },

    /** Ends every outstanding link of a user (their password or address just changed). */
    async revokeForUser(userId: string, now: Date) {
      await db
        .update(emailTokens)
        .set({ usedAt: now })
        .where(and(eq(emailTokens.userId, userId), isNull(emailTokens.usedAt)));
    },

    /** Deletes expired tokens (used ones are kept until then, so a replay is audited as such). */
    async prune(now: Date): Promise<number> {
      const deleted = await db
        .delete(emailTokens)
        .where(lt(emailTokens.expiresAt, now))
        .returning({ id: emailTokens.id });
      return deleted.length;
    },
  };
}

export type EmailTokens = ReturnType<typeof createEmailTokens>;
