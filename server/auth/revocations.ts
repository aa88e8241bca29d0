// Immediate revocation without a database query per request: the sessions ended and the
// roles changed within the last access-token lifetime, kept in memory. Older entries can
// go: every access token issued before them has expired.
//
// Several processes on one database learn of each other's revocations through the
// revocation_feed table, written in the transaction that makes the change: PostgreSQL
// tells every listener when it commits (NOTIFY, carrying the entry), SQLite processes
// poll the table for rows after the last they saw. Either way within a second.
import { asc, gt, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../logger.ts';
import type { Role } from './roles.ts';

const CHANNEL = 'revocations';
/** How often a SQLite process looks for other processes' revocations. */
export const POLL_INTERVAL_MS = 250;

interface Entry {
  at: Date;
  sessionId?: string | null;
  userId?: string | null;
  role?: Role | null;
}

/**
 * @example
 * const revocations = createRevocations(db, 900, logger)
 * await revocations.load(new Date())                 // at boot: revocation survives a restart
 * revocations.start()                                // hear other processes' revocations
 * await revocations.revokeSessions([sid], new Date()) // inside the transaction that ends it
 * revocations.isSessionRevoked(sid)                  // => true, here at once, elsewhere within a second
 */
export function createRevocations(db: Db, accessTokenTtlSeconds: number, logger?: Logger) {
  const { revocationFeed } = db.tables;
  const ttlMs = accessTokenTtlSeconds * 1000;
  const revokedSessions = new Map<string, number>();
  const changedRoles = new Map<string, { role: Role; at: number }>();
  /** The newest feed row applied (SQLite's polling reads after it). */
  let lastId = 0;

  /** Maps are in insertion (= time) order, so pruning stops at the first live entry. */
  function prune(now: number) {
    const cutoff = now - ttlMs;
    for (const [id, at] of revokedSessions) {
      if (at > cutoff) break;
      revokedSessions.delete(id);
    }
    for (const [id, entry] of changedRoles) {
      if (entry.at > cutoff) break;
      changedRoles.delete(id);
    }
  }

  /** Applies an entry in memory; applying one twice changes nothing. */
  function apply({ at, sessionId, userId, role }: Entry) {
    const time = at.getTime();
    prune(time);
    if (sessionId) {
      revokedSessions.delete(sessionId);
      revokedSessions.set(sessionId, time);
    }
    if (userId && role) {
      changedRoles.delete(userId);
      changedRoles.set(userId, { role, at: time });
    }
  }

  /** Writes entries (in the caller's transaction, if any), tells the other processes, applies them here. */
  async function publish(entries: Entry[]) {
    if (entries.length === 0) return;
    await db.transaction(async () => {
      await db.insert(revocationFeed).values(entries);
      for (const entry of entries) await db.notify(CHANNEL, JSON.stringify(entry));
    });
    for (const entry of entries) apply(entry);
  }

  /** Applies the feed rows written after `since` (time) or after the last row seen. */
  async function readFeed(after: { since: Date } | { id: number }) {
    const rows = await db
      .select()
      .from(revocationFeed)
      .where('since' in after ? gt(revocationFeed.at, after.since) : gt(revocationFeed.id, after.id))
      .orderBy(asc(revocationFeed.id));
    for (const row of rows) apply(row);
    lastId = Math.max(lastId, rows.at(-1)?.id ?? 0);
  }

  let stop: (() => Promise<void>) | undefined;

  return {
    revokeSessions: (sessionIds: string[], now: Date) =>
      publish(sessionIds.map((sessionId) => ({ at: now, sessionId }))),
    isSessionRevoked: (sessionId: string) => revokedSessions.has(sessionId),

    setRole: (userId: string, role: Role, now: Date) => publish([{ at: now, userId, role }]),
    /** A token minted before a role change carries the old role: it must be refreshed. */
    isRoleStale: (userId: string, role: Role) => {
      const changed = changedRoles.get(userId);
      return changed !== undefined && changed.role !== role;
    },

    /** Loads what changed within one access-token lifetime before `now` (at boot). */
    load: (now: Date) => readFeed({ since: new Date(now.getTime() - ttlMs) }),

    /**
     * Starts hearing other processes' revocations: PostgreSQL's NOTIFY (and, after each
     * reconnection, the last lifetime's rows again), or polling on SQLite.
     */
    start() {
      const catchUp = () => readFeed({ since: new Date(Date.now() - ttlMs) });
      stop = db.listen(CHANNEL, {
        onMessage: (payload) => {
          const entry = JSON.parse(payload) as Entry & { at: string };
          apply({ ...entry, at: new Date(entry.at) });
        },
        onConnect: () =>
          catchUp().catch((error: unknown) => {
            logger?.error('Revocation catch-up failed', { message: (error as Error).message });
          }),
      });
      if (stop) return;
      let polling = false;
      const timer = setInterval(() => {
        if (polling) return;
        polling = true;
        readFeed({ id: lastId })
          .catch((error: unknown) => logger?.error('Revocation poll failed', { message: (error as Error).message }))
          .finally(() => (polling = false));
      }, POLL_INTERVAL_MS).unref();
      stop = async () => clearInterval(timer);
    },
    stop: async () => stop?.(),

    /** Deletes feed rows older than one access-token lifetime; returns how many. */
    async prune(now: Date): Promise<number> {
      const cutoff = new Date(now.getTime() - ttlMs);
      const deleted = await db
        .delete(revocationFeed)
        .where(lt(revocationFeed.at, cutoff))
        .returning({ id: revocationFeed.id });
      return deleted.length;
    },
  };
}

export type Revocations = ReturnType<typeof createRevocations>;
