// Sessions are refresh-token families: one per sign-in, each refresh rotates its
// token, and presenting a rotated token again ends the family (reuse detection).
// Edit it to change what a session records; the rules live in rotateRefreshToken.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { createId } from '../../db/ids.ts';
import { REVOCATION_REASONS, refreshTokens, sessions, users } from '../../db/schema.ts';
import type { Config } from '../env.ts';
import { type PublicUser, publicUserColumns } from './accounts.ts';
import type { Revocations } from './revocations.ts';

export type RevocationReason = (typeof REVOCATION_REASONS)[number];

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const newRefreshToken = () => randomBytes(32).toString('base64url');
const addSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);
const earliest = (a: Date, b: Date) => (a < b ? a : b);

export interface IssuedRefreshToken {
  token: string;
  expiresAt: Date;
}

export type RotationResult =
  | { status: 'rotated'; user: PublicUser; sessionId: string; refreshToken: IssuedRefreshToken }
  /** The token was rotated moments ago (another tab): a new access token, but no new refresh token. */
  | { status: 'grace'; user: PublicUser; sessionId: string; sessionExpiresAt: Date }
  | { status: 'rejected'; reason: 'unknown' | 'expired' | 'revoked' | 'reused'; sessionId?: string; userId?: string };

/**
 * @example
 * const store = createSessionStore(db, config.jwt, revocations)
 * const { sessionId, refreshToken } = store.createSession(user.id, userAgent, new Date())
 * const result = store.rotateRefreshToken(refreshToken.token, new Date())
 */
export function createSessionStore(db: Db, jwt: Config['jwt'], revocations: Revocations) {
  // Prepared once: the refresh path runs these on every rotation (4-5x faster than
  // building the query each time). Placeholders inside sql`` skip the column's Date
  // mapping, hence the `…Ms` numbers there.
  const findByHash = db
    .select({ token: refreshTokens, session: sessions, user: publicUserColumns })
    .from(refreshTokens)
    .innerJoin(sessions, eq(refreshTokens.sessionId, sessions.id))
    .innerJoin(users, eq(sessions.userId, users.id))
    .where(eq(refreshTokens.tokenHash, sql.placeholder('hash')))
    .prepare();
  const markUsed = db
    .update(refreshTokens)
    .set({ usedAt: sql`${sql.placeholder('nowMs')}`, replacedById: sql`${sql.placeholder('successor')}` })
    .where(eq(refreshTokens.id, sql.placeholder('id')))
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
    .set({ lastUsedAt: sql`${sql.placeholder('nowMs')}`, idleExpiresAt: sql`${sql.placeholder('idleExpiresAtMs')}` })
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare();

  function issueRefreshToken(sessionId: string, expiresAt: Date, now: Date): IssuedRefreshToken & { id: string } {
    const token = newRefreshToken();
    const id = createId();
    insertToken.run({ id, sessionId, hash: hashToken(token), now, expiresAt });
    return { id, token, expiresAt };
  }

  function revokeSessionRows(where: ReturnType<typeof and>, reason: RevocationReason, now: Date) {
    const ended = db
      .update(sessions)
      .set({ revokedAt: now, revokedReason: reason })
      .where(and(where, isNull(sessions.revokedAt)))
      .returning({ id: sessions.id })
      .all();
    for (const { id } of ended) revocations.revokeSession(id, now);
    return ended.map(({ id }) => id);
  }

  return {
    createSession(userId: string, userAgent: string | null, now: Date) {
      return db.transaction(() => {
        const expiresAt = addSeconds(now, jwt.sessionMaxAge);
        const idleExpiresAt = earliest(addSeconds(now, jwt.refreshTokenTtl), expiresAt);
        const [session] = db
          .insert(sessions)
          .values({ userId, userAgent, createdAt: now, lastUsedAt: now, idleExpiresAt, expiresAt })
          .returning({ id: sessions.id })
          .all();
        const { token } = issueRefreshToken(session!.id, idleExpiresAt, now);
        return { sessionId: session!.id, refreshToken: { token, expiresAt: idleExpiresAt } };
      });
    },

    /**
     * Rotates a refresh token in one IMMEDIATE transaction: concurrent rotations of the
     * same token queue behind each other, so at most one successor is ever created.
     */
    rotateRefreshToken(token: string, now: Date): RotationResult {
      return db.transaction(
        (): RotationResult => {
          const row = findByHash.get({ hash: hashToken(token) });
          if (!row) return { status: 'rejected', reason: 'unknown' };
          const { token: stored, session, user } = row;
          const sessionId = session.id;
          if (session.revokedAt) return { status: 'rejected', reason: 'revoked', sessionId, userId: user.id };
          if (stored.usedAt) {
            const rotatedAgo = (now.getTime() - stored.usedAt.getTime()) / 1000;
            if (rotatedAgo <= jwt.refreshReuseGrace) {
              return { status: 'grace', user, sessionId, sessionExpiresAt: session.idleExpiresAt };
            }
            revokeSessionRows(eq(sessions.id, sessionId), 'reuse_detected', now);
            return { status: 'rejected', reason: 'reused', sessionId, userId: user.id };
          }
          if (now >= stored.expiresAt || now >= session.idleExpiresAt || now >= session.expiresAt) {
            return { status: 'rejected', reason: 'expired', sessionId, userId: user.id };
          }
          const idleExpiresAt = earliest(addSeconds(now, jwt.refreshTokenTtl), session.expiresAt);
          const successor = issueRefreshToken(sessionId, idleExpiresAt, now);
          markUsed.run({ id: stored.id, nowMs: now.getTime(), successor: successor.id });
          touchSession.run({ id: sessionId, nowMs: now.getTime(), idleExpiresAtMs: idleExpiresAt.getTime() });
          return {
            status: 'rotated',
            user,
            sessionId,
            refreshToken: { token: successor.token, expiresAt: idleExpiresAt },
          };
        },
        { behavior: 'immediate' },
      );
    },

    /** Ends one session of a user; false when the user has no such live session. */
    revokeSession(userId: string, sessionId: string, reason: RevocationReason, now: Date): boolean {
      return revokeSessionRows(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)), reason, now).length > 0;
    },

    /** Ends every session of a user, or every one but `exceptSessionId`; returns their ids. */
    revokeUserSessions(userId: string, reason: RevocationReason, now: Date, exceptSessionId?: string): string[] {
      const others = exceptSessionId ? ne(sessions.id, exceptSessionId) : undefined;
      return revokeSessionRows(and(eq(sessions.userId, userId), others), reason, now);
    },

    /**
     * Deletes sessions (and, by cascade, their refresh tokens) that ended more than one
     * access-token lifetime ago: nothing can use or replay them any more. Returns how many.
     */
    prune(now: Date): number {
      const cutoff = now.getTime() - jwt.accessTokenTtl * 1000;
      const endedAt = sql`min(coalesce(${sessions.revokedAt}, ${sessions.idleExpiresAt}), ${sessions.idleExpiresAt}, ${sessions.expiresAt})`;
      return db
        .delete(sessions)
        .where(sql`${endedAt} < ${cutoff}`)
        .run().changes;
    },

    /** The user's live sessions, most recently used first. */
    listSessions(userId: string, now: Date) {
      return db
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
        .orderBy(sql`${sessions.lastUsedAt} DESC`)
        .all();
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
