// Immediate revocation without a database query per request: the sessions ended and the
// roles changed within the last access-token lifetime, kept in memory. Older entries can
// go: every access token issued before them has expired.
//
// Several processes on one database learn of each other's revocations through the
// revocation_feed table, written in the transaction that makes the change: PostgreSQL
// tells every listener when it commits (NOTIFY, carrying the entry), SQLite processes
// poll the table for rows after the last they saw. Either way within a second.
import { asc, gt, inArray, lt, max } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../logger.ts';
import type { Role } from './roles.ts';

const CHANNEL = 'revocations';
/** How often a SQLite process looks for other processes' revocations. */
const POLL_INTERVAL_MS = 250;
/** Entries are kept this much past one access-token lifetime: clocks of instances differ a little. */
const CLOCK_MARGIN_MS = 60_000;
/** Feed rows per INSERT and per NOTIFY (a payload holds at most 8000 bytes of ids). */
const CHUNK = 500;

interface Entry {
  id: number;
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
  const keepMs = accessTokenTtlSeconds * 1000 + CLOCK_MARGIN_MS;
  const revokedSessions = new Map<string, number>();
  const changedRoles = new Map<string, { role: Role; at: number; id: number }>();
  /** The newest feed row applied (SQLite's polling reads after it). */
  let lastId = 0;

  /** Maps are in insertion (= time) order, so pruning stops at the first live entry. */
  function prune(now: number) {
    const cutoff = now - keepMs;
    for (const [id, at] of revokedSessions) {
      if (at > cutoff) break;
      revokedSessions.delete(id);
    }
    for (const [id, entry] of changedRoles) {
      if (entry.at > cutoff) break;
      changedRoles.delete(id);
    }
  }

  /** Applies a feed row in memory; applying one twice, or an older one after it, changes nothing. */
  function apply({ id, at, sessionId, userId, role }: Entry) {
    const time = at.getTime();
    prune(time);
    if (sessionId) {
      revokedSessions.delete(sessionId);
      revokedSessions.set(sessionId, time);
    }
    // Rows can arrive out of order (a catch-up read and a notification): the newest role wins.
    if (userId && role && (changedRoles.get(userId)?.id ?? 0) <= id) {
      changedRoles.delete(userId);
      changedRoles.set(userId, { role, at: time, id });
    }
  }

  /**
   * Writes entries in the caller's transaction (if any), tells the other processes when it
   * commits (the rows' ids: a listener reads the rows, so a forged notification can only
   * make it read real ones again), and applies them here then: a change that rolls back
   * revokes nothing anywhere.
   */
  async function publish(entries: Omit<Entry, 'id'>[]) {
    if (entries.length === 0) return;
    await db.transaction(async () => {
      for (let i = 0; i < entries.length; i += CHUNK) {
        const rows = await db
          .insert(revocationFeed)
          .values(entries.slice(i, i + CHUNK))
          .returning();
        await db.notify(CHANNEL, rows.map((row) => row.id).join(','));
        db.afterCommit(() => rows.forEach(apply));
      }
    });
  }

  /** Applies the feed rows written after `since` (time), after the last row seen, or with these ids. */
  async function readFeed(which: { since: Date } | { after: number } | { ids: number[] }) {
    const rows = await db
      .select()
      .from(revocationFeed)
      .where(
        'since' in which
          ? gt(revocationFeed.at, which.since)
          : 'after' in which
            ? gt(revocationFeed.id, which.after)
            : inArray(revocationFeed.id, which.ids),
      )
      .orderBy(asc(revocationFeed.id));
    for (const row of rows) apply(row);
    if (!('ids' in which)) lastId = Math.max(lastId, rows.at(-1)?.id ?? 0);
  }

  const logFailure = (what: string) => (error: unknown) => {
    logger?.error(`Revocation ${what} failed`, { message: (error as Error).message });
  };
  let stop: (() => Promise<void>) | undefined;
  let stopped = false;

  /** Reads notified rows; a failed read (the pool busy, the server restarting) is tried again for a minute. */
  function readRows(ids: number[], attempt: number) {
    readFeed({ ids }).catch((error: unknown) => {
      if (stopped) return;
      if (attempt >= 60) return logFailure('read')(error);
      setTimeout(() => readRows(ids, attempt + 1), 1000).unref();
    });
  }

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
    async load(now: Date) {
      // The newest id first: a row committed meanwhile is read by the first poll.
      const [newest] = await db.select({ id: max(revocationFeed.id) }).from(revocationFeed);
      await readFeed({ since: new Date(now.getTime() - keepMs) });
      lastId = newest?.id ?? 0;
    },

    /**
     * Starts hearing other processes' revocations: PostgreSQL's NOTIFY (and, after each
     * reconnection, the last lifetime's rows again), or polling on SQLite.
     */
    start() {
      stop = db.listen(CHANNEL, {
        onMessage: (payload) => {
          // Anyone who may connect to the database may NOTIFY: only ids are taken from it.
          if (!/^\d{1,15}(,\d{1,15}){0,999}$/.test(payload))
            return logger?.warn('Ignored a malformed revocation notice');
          readRows(payload.split(',').map(Number), 1);
        },
        // Rethrown: the listener connects again rather than go on without what it missed.
        onConnect: () =>
          readFeed({ since: new Date(Date.now() - keepMs) }).catch((error: unknown) => {
            logFailure('catch-up')(error);
            throw error;
          }),
      });
      if (stop) return;
      let polling = false;
      const timer = setInterval(() => {
        if (polling) return;
        polling = true;
        readFeed({ after: lastId })
          .catch(logFailure('poll'))
          .finally(() => (polling = false));
      }, POLL_INTERVAL_MS).unref();
      stop = async () => clearInterval(timer);
    },
    async stop() {
      stopped = true;
      await stop?.();
    },

    /** Deletes feed rows no token can need any more; returns how many. */
    async prune(now: Date): Promise<number> {
      const cutoff = new Date(now.getTime() - keepMs);
      const deleted = await db
        .delete(revocationFeed)
        .where(lt(revocationFeed.at, cutoff))
        .returning({ id: revocationFeed.id });
      return deleted.length;
    },
  };
}

export type Revocations = ReturnType<typeof createRevocations>;
