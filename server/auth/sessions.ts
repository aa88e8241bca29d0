// Sessions are refresh-token families: one per sign-in, each refresh rotates its
// token, and presenting a rotated token again ends the family (reuse detection).
// Edit it to change what a session records; the rules live in rotateRefreshToken.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { and, desc, eq, gt, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { type Db, TransactionConflict, placeholderFor } from '../../db/client.ts';
import { createId } from '../../db/ids.ts';
import type { REVOCATION_REASONS } from '../../db/schema.ts';
import type { Config } from '../env.ts';
import { type PublicUser, publicUserColumns } from './accounts.ts';
import type { Revocations } from './revocations.ts';

export type RevocationReason = (typeof REVOCATION_REASONS)[number];

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const newRefreshToken = () => randomBytes(32).toString('base64url');
/** Each token's successor is derived from it, so the same successor can be sent twice. */
const successorOf = (token: string, rotationKey: string) =>
  createHmac('sha256', Buffer.from(rotationKey, 'base64url')).update(token).digest('base64url');

/** Grace answers per rotated token: tabs racing and a lost response need a few, a replay loop none. */
export const MAX_GRACE_ANSWERS = 3;

/**
 * The session's sign-in proved a password that has since changed, or the account was
 * disabled meanwhile (see createSession): callers answer it like a wrong password.
 */
export class CredentialsChangedError extends Error {}
const addSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);
const earliest = (a: Date, b: Date) => (a < b ? a : b);

export interface IssuedRefreshToken {
  token: string;
  expiresAt: Date;
}

export type RotationResult =
  | {
      /** `grace`: the token was rotated moments ago (another tab, or a lost response) and its successor is sent again. */
      status: 'rotated' | 'grace';
      user: PublicUser;
      sessionId: string;
      /** Null only for a grace answer whose successor cannot be sent again (then the browser keeps what it has). */
      refreshToken: IssuedRefreshToken | null;
      /** When the session ends if nobody refreshes it (the cookies' lifetime). */
      idleExpiresAt: Date;
      /** When the session ends however active (no access token outlives it). */
      expiresAt: Date;
      /** For a grace answer: how many times this token has now been answered after its rotation. */
      graceUses?: number;
    }
  | {
      status: 'rejected';
      reason: 'unknown' | 'expired' | 'revoked' | 'reused' | 'other_session';
      sessionId?: string;
      userId?: string;
    };

/**
 * @example
 * const store = createSessionStore(db, config.jwt, revocations)
 * const { sessionId, refreshToken } = await store.createSession(user.id, userAgent, new Date())
 * const result = await store.rotateRefreshToken(refreshToken.token, new Date())
 */
export function createSessionStore(db: Db, jwt: Config['jwt'], revocations: Revocations) {
  const { refreshTokens, sessions, users } = db.tables;
  // Prepared once: the refresh path runs these on every rotation (faster than building
  // the query each time).
  const findByHash = db
    .select({ token: refreshTokens, session: sessions, user: publicUserColumns(db.tables) })
    .from(refreshTokens)
    .innerJoin(sessions, eq(refreshTokens.sessionId, sessions.id))
    .innerJoin(users, eq(sessions.userId, users.id))
    .where(eq(refreshTokens.tokenHash, sql.placeholder('hash')))
    .prepare();
  // Compare-and-set: only a token still unused is marked, only a live session is touched.
  const markUsed = db
    .update(refreshTokens)
    .set({ usedAt: placeholderFor(refreshTokens.usedAt, 'now'), replacedById: sql`${sql.placeholder('successor')}` })
    .where(and(eq(refreshTokens.id, sql.placeholder('id')), isNull(refreshTokens.usedAt)))
    .returning({ id: refreshTokens.id })
    .prepare();
  const countGraceUse = db
    .update(refreshTokens)
    .set({ graceUses: sql`${refreshTokens.graceUses} + 1` })
    .where(eq(refreshTokens.id, sql.placeholder('id')))
    .returning({ graceUses: refreshTokens.graceUses })
    .prepare();
  const findToken = db
    .select({ tokenHash: refreshTokens.tokenHash, usedAt: refreshTokens.usedAt, expiresAt: refreshTokens.expiresAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.id, sql.placeholder('id')))
    .prepare();
  const findLiveSession = db
    .select({ id: sessions.id })
    .from(sessions)
    .where(
      and(
        eq(sessions.id, sql.placeholder('sessionId')),
        eq(sessions.userId, sql.placeholder('userId')),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, placeholderFor(sessions.expiresAt, 'now')),
        gt(sessions.idleExpiresAt, placeholderFor(sessions.idleExpiresAt, 'now')),
      ),
    )
    .prepare();
  const findAuthenticatedAt = db
    .select({ authenticatedAt: sessions.authenticatedAt })
    .from(sessions)
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare();
  const findAccountState = db
    .select({ passwordHash: users.passwordHash, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare();
  const insertToken = db
    .insert(refreshTokens)
    .values({
      id: sql.placeholder('id'),
      sessionId: sql.placeholder('sessionId'),
      tokenHash: sql.placeholder('hash'),
      createdAt: sql.placeholder('now'),
      expiresAt: sql.placeholder('expiresAt'),
    })
    .prepare();
  const touchSession = db
    .update(sessions)
    .set({
      lastUsedAt: placeholderFor(sessions.lastUsedAt, 'now'),
      idleExpiresAt: placeholderFor(sessions.idleExpiresAt, 'idleExpiresAt'),
    })
    .where(and(eq(sessions.id, sql.placeholder('id')), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id })
    .prepare();

  async function issueRefreshToken(
    sessionId: string,
    expiresAt: Date,
    now: Date,
    token = newRefreshToken(),
    id = createId(),
  ): Promise<IssuedRefreshToken & { id: string }> {
    await insertToken.execute({ id, sessionId, hash: hashToken(token), now, expiresAt });
    return { id, token, expiresAt };
  }

  /** The successor of a just-rotated token, if it is still the live one and can be derived again. */
  async function resendSuccessor(
    token: string,
    stored: { replacedById: string | null },
    session: { rotationKey: string | null },
  ): Promise<IssuedRefreshToken | null> {
    if (!session.rotationKey || !stored.replacedById) return null;
    const [successor] = await findToken.execute({ id: stored.replacedById });
    const again = successorOf(token, session.rotationKey);
    if (!successor || successor.usedAt || successor.tokenHash !== hashToken(again)) return null;
    return { token: again, expiresAt: successor.expiresAt };
  }

  /** Ends sessions and, in the same transaction, tells every process to refuse their tokens. */
  function revokeSessionRows(where: ReturnType<typeof and>, reason: RevocationReason, now: Date) {
    return db.transaction(async () => {
      const ended = await db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(where, isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      const ids = ended.map(({ id }) => id);
      await revocations.revokeSessions(ids, now);
      return ids;
    });
  }

  return {
    /**
     * Starts a session. With `verifiedPasswordHash` (the hash the sign-in just checked) it
     * throws CredentialsChangedError if the password changed meanwhile: a sign-in racing a
     * password change must not outlive it, and the check shares the insert's transaction.
     * A disabled account gets no session either (the same error): a sign-in whose hash was
     * being checked while an admin disabled the account must not outlive the disabling.
     */
    createSession(userId: string, userAgent: string | null, now: Date, verifiedPasswordHash?: string) {
      return db.transaction(async () => {
        const [account] = await findAccountState.execute({ id: userId });
        if (
          account?.disabledAt ||
          (verifiedPasswordHash !== undefined && account?.passwordHash !== verifiedPasswordHash)
        ) {
          throw new CredentialsChangedError();
        }
        const expiresAt = addSeconds(now, jwt.sessionMaxAge);
        const idleExpiresAt = earliest(addSeconds(now, jwt.refreshTokenTtl), expiresAt);
        const [session] = await db
          .insert(sessions)
          .values({
            userId,
            userAgent,
            createdAt: now,
            lastUsedAt: now,
            idleExpiresAt,
            expiresAt,
            // Every session starts from a password (or a link only its owner could open).
            authenticatedAt: now,
            rotationKey: randomBytes(32).toString('base64url'),
          })
          .returning({ id: sessions.id });
        const { token } = await issueRefreshToken(session!.id, idleExpiresAt, now);
        return { sessionId: session!.id, expiresAt, refreshToken: { token, expiresAt: idleExpiresAt } };
      });
    },

    /** Records that the session proved the password again (auth.reauthenticate). */
    async markAuthenticated(sessionId: string, now: Date) {
      await db.update(sessions).set({ authenticatedAt: now }).where(eq(sessions.id, sessionId));
    },

    /** Whether the session proved the password within the last `windowSeconds`. */
    async isRecentlyAuthenticated(sessionId: string, now: Date, windowSeconds: number): Promise<boolean> {
      const [row] = await findAuthenticatedAt.execute({ id: sessionId });
      return !!row?.authenticatedAt && now.getTime() - row.authenticatedAt.getTime() <= windowSeconds * 1000;
    },

    /** Whether `sessionId` is a live session of `userId` (asked once per new access token). */
    isLive: async (sessionId: string, userId: string, now: Date) =>
      (await findLiveSession.execute({ sessionId, userId, now })).length > 0,

    /**
     * Rotates a refresh token in one transaction: concurrent rotations of the same token
     * queue behind each other (SQLite) or all but one find it used and are run again
     * (PostgreSQL: its writes check what it read, so it needs no SERIALIZABLE), so at most
     * one successor is ever created.
     * `browserSessionId`: the session the browser's access cookie names, if it sent one.
     */
    rotateRefreshToken(token: string, now: Date, browserSessionId?: string): Promise<RotationResult> {
      return db.transaction(
        async (): Promise<RotationResult> => {
          const [row] = await findByHash.execute({ hash: hashToken(token) });
          if (!row) return { status: 'rejected', reason: 'unknown' };
          const { token: stored, session, user } = row;
          const sessionId = session.id;
          // The browser's access cookie names another session: this refresh cookie was
          // planted (login CSRF from a sibling subdomain). Touch nothing.
          if (browserSessionId !== undefined && browserSessionId !== sessionId) {
            return { status: 'rejected', reason: 'other_session' };
          }
          const rejected = (reason: 'expired' | 'revoked' | 'reused') =>
            ({ status: 'rejected', reason, sessionId, userId: user.id }) as const;
          if (session.revokedAt) return rejected('revoked');
          // Expiry first: nothing, not even a grace answer, outlives the session.
          if (now >= stored.expiresAt || now >= session.idleExpiresAt || now >= session.expiresAt) {
            return rejected('expired');
          }
          const live = { user, sessionId, idleExpiresAt: session.idleExpiresAt, expiresAt: session.expiresAt };
          if (stored.usedAt) {
            const rotatedAgo = (now.getTime() - stored.usedAt.getTime()) / 1000;
            const graceUses =
              rotatedAgo <= jwt.refreshReuseGrace ? (await countGraceUse.execute({ id: stored.id }))[0]!.graceUses : 0;
            if (graceUses === 0 || graceUses > MAX_GRACE_ANSWERS) {
              await revokeSessionRows(eq(sessions.id, sessionId), 'reuse_detected', now);
              return rejected('reused');
            }
            const refreshToken = await resendSuccessor(token, stored, session);
            return {
              status: 'grace',
              ...live,
              idleExpiresAt: refreshToken?.expiresAt ?? live.idleExpiresAt,
              graceUses,
              refreshToken,
            };
          }
          const idleExpiresAt = earliest(addSeconds(now, jwt.refreshTokenTtl), session.expiresAt);
          const next = session.rotationKey ? successorOf(token, session.rotationKey) : undefined;
          // The presented token is marked used first: a concurrent rotation of it waits for this
          // row (PostgreSQL then aborts it as a conflict, and its retry finds the token used)
          // instead of failing on the successor, whose hash both would insert.
          const successorId = createId();
          // Another rotation of this token, or the session's end, committed since the read:
          // run again, to answer from what is now stored (grace, or refused).
          if ((await markUsed.execute({ id: stored.id, now, successor: successorId })).length === 0) {
            throw new TransactionConflict();
          }
          const successor = await issueRefreshToken(sessionId, idleExpiresAt, now, next, successorId);
          if ((await touchSession.execute({ id: sessionId, now, idleExpiresAt })).length === 0) {
            throw new TransactionConflict();
          }
          const refreshToken = { token: successor.token, expiresAt: idleExpiresAt };
          return { status: 'rotated', ...live, idleExpiresAt, refreshToken };
        },
        // A rotation lost in a database crash (the last fraction of a second) costs its user a
        // sign-in, since the successor they hold is unknown, and reuse detection forgets that
        // one rotation. Not waiting for the disk lets PostgreSQL rotate about a third more.
        { isolation: 'read committed', asyncCommit: true },
      );
    },

    /** Ends one session of a user; false when the user has no such live session. */
    async revokeSession(userId: string, sessionId: string, reason: RevocationReason, now: Date): Promise<boolean> {
      const ended = await revokeSessionRows(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)), reason, now);
      return ended.length > 0;
    },

    /** Ends every session of a user, or every one but `exceptSessionId`; returns their ids. */
    revokeUserSessions(
      userId: string,
      reason: RevocationReason,
      now: Date,
      exceptSessionId?: string,
    ): Promise<string[]> {
      const others = exceptSessionId ? ne(sessions.id, exceptSessionId) : undefined;
      return revokeSessionRows(and(eq(sessions.userId, userId), others), reason, now);
    },

    /**
     * Deletes sessions (and, by cascade, their refresh tokens) that ended more than one
     * access-token lifetime ago: nothing can use or replay them any more. Returns how many.
     */
    async prune(now: Date): Promise<number> {
      const cutoff = new Date(now.getTime() - jwt.accessTokenTtl * 1000);
      // Reuse detection needs a used token only while presenting it could otherwise work:
      // past its own expiry it is refused as expired anyway. This bounds a live session's
      // rows to REFRESH_TOKEN_TTL / ACCESS_TOKEN_TTL, however long it lives.
      await db.delete(refreshTokens).where(and(isNotNull(refreshTokens.usedAt), lt(refreshTokens.expiresAt, now)));
      // A session ended when it was revoked, went idle or reached its maximum age.
      const ended = await db
        .delete(sessions)
        .where(or(lt(sessions.revokedAt, cutoff), lt(sessions.idleExpiresAt, cutoff), lt(sessions.expiresAt, cutoff)))
        .returning({ id: sessions.id });
      return ended.length;
    },

    /** The user's live sessions, most recently used first. */
    async listSessions(userId: string, now: Date) {
      return await db
        .select({
          id: sessions.id,
          createdAt: sessions.createdAt,
          lastUsedAt: sessions.lastUsedAt,
          userAgent: sessions.userAgent,
        })
        .from(sessions)
        .where(
          and(
            eq(sessions.userId, userId),
            isNull(sessions.revokedAt),
            gt(sessions.idleExpiresAt, now),
            gt(sessions.expiresAt, now),
          ),
        )
        .orderBy(desc(sessions.lastUsedAt));
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
