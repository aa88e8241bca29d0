// Immediate revocation without a database query per request: the sessions ended
// and the roles changed within the last access-token lifetime, kept in memory.
// Older entries can go: every access token issued before them has expired.
import { gt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Role } from './roles.ts';

/**
 * @example
 * const revocations = createRevocations(900)
 * revocations.load(db, new Date())          // at boot: revocation survives a restart
 * revocations.revokeSession(sid, new Date())
 * revocations.isSessionRevoked(sid)         // => true, for the next 900 s
 */
export function createRevocations(accessTokenTtlSeconds: number) {
  const ttlMs = accessTokenTtlSeconds * 1000;
  const revokedSessions = new Map<string, number>();
  const changedRoles = new Map<string, { role: Role; at: number }>();

  /** Maps are in insertion (= time) order, so pruning stops at the first live entry. */
  function prune(now: Date) {
    const cutoff = now.getTime() - ttlMs;
    for (const [id, at] of revokedSessions) {
      if (at > cutoff) break;
      revokedSessions.delete(id);
    }
    for (const [id, entry] of changedRoles) {
      if (entry.at > cutoff) break;
      changedRoles.delete(id);
    }
  }

  return {
    revokeSession(sessionId: string, now: Date) {
      prune(now);
      revokedSessions.delete(sessionId);
      revokedSessions.set(sessionId, now.getTime());
    },
    isSessionRevoked: (sessionId: string) => revokedSessions.has(sessionId),

    setRole(userId: string, role: Role, now: Date) {
      prune(now);
      changedRoles.delete(userId);
      changedRoles.set(userId, { role, at: now.getTime() });
    },
    /** A token minted before a role change carries the old role: it must be refreshed. */
    isRoleStale: (userId: string, role: Role) => {
      const changed = changedRoles.get(userId);
      return changed !== undefined && changed.role !== role;
    },

    /** Loads what changed within one access-token lifetime before `now`. */
    async load(db: Db, now: Date) {
      const { sessions, users } = db.tables;
      const since = new Date(now.getTime() - ttlMs);
      const ended = await db
        .select({ id: sessions.id, at: sessions.revokedAt })
        .from(sessions)
        .where(gt(sessions.revokedAt, since))
        .orderBy(sessions.revokedAt);
      for (const { id, at } of ended) revokedSessions.set(id, at!.getTime());
      // updated_at also moves for other changes; a current role never makes a token stale.
      const changed = await db
        .select({ id: users.id, role: users.role, at: users.updatedAt })
        .from(users)
        .where(gt(users.updatedAt, since))
        .orderBy(users.updatedAt);
      for (const { id, role, at } of changed) changedRoles.set(id, { role, at: at.getTime() });
    },
  };
}

export type Revocations = ReturnType<typeof createRevocations>;
