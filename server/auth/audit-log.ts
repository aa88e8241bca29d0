// The security audit log: one row per security-relevant event (rate-limit hits are
// counted per address instead). Edit AUDIT_EVENT_TYPES in db/schema.ts to record more;
// never put a password, token or hash in `detail`.
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db, Tables } from '../../db/client.ts';
import type { AUDIT_EVENT_TYPES } from '../../db/schema.ts';

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];
export type AuditEvent = Tables['auditEvents']['$inferInsert'];

/** Rate-limit hits from one address on one procedure get one row per window, and one with the count. */
export const RATE_LIMITED_AUDIT_WINDOW_SECONDS = 15 * 60;

/**
 * @example
 * const audit = createAuditLog(db)
 * audit.record({ at: new Date(), type: 'login', outcome: 'failure', ip, userAgent, detail: 'unknown e-mail or wrong password' })
 * audit.list({ limit: 50 }) // newest first; pass `before: nextCursor` for the next page
 */
export function createAuditLog(db: Db, { maxSources = 10_000 } = {}) {
  const { auditEvents } = db.tables;
  const insert = db
    .insert(auditEvents)
    .values({
      at: sql.placeholder('at'),
      type: sql.placeholder('type'),
      outcome: sql.placeholder('outcome'),
      userId: sql.placeholder('userId'),
      sessionId: sql.placeholder('sessionId'),
      ip: sql.placeholder('ip'),
      userAgent: sql.placeholder('userAgent'),
      detail: sql.placeholder('detail'),
    })
    .prepare();

  const write = async (event: AuditEvent) => {
    await insert.execute({ userId: null, sessionId: null, ip: null, userAgent: null, detail: null, ...event });
  };
  // Counts written when a window closes outside any request (eviction); flush() awaits them.
  const closing = new Set<Promise<void>>();

  // A flood causes rate-limit hits at will (thousands a second, one per call in a batch),
  // so they are counted instead of written: per address and procedure, the first hit of
  // a window gets a row, and the hits after it one more row when the window is closed (by
  // the next hit after it, the hourly prune, eviction from this bounded cache, or flush).
  const windowMs = RATE_LIMITED_AUDIT_WINDOW_SECONDS * 1000;
  type Window = { since: Date; more: number; last: AuditEvent };
  const windows = new LRUCache<string, Window>({
    max: maxSources,
    dispose: ({ since, more, last }) => {
      if (more === 0) return;
      const written = write({ ...last, detail: `${last.detail} (${more} more since ${since.toISOString()})` })
        // An audit count lost to a failing database must not fail the request that evicted it.
        .catch(() => {})
        .finally(() => closing.delete(written));
      closing.add(written);
    },
  });
  const isOpen = (window: Window, at: Date) => at.getTime() < window.since.getTime() + windowMs;

  return {
    async record(event: AuditEvent) {
      if (event.type !== 'rate_limited') return write(event);
      const key = `${event.ip} ${event.detail}`;
      const window = windows.get(key);
      if (window && isOpen(window, event.at)) {
        window.more++;
        window.last = event;
        return;
      }
      windows.delete(key);
      windows.set(key, { since: event.at, more: 0, last: event });
      // Closing the old window began writing its count (dispose): let it land before the new
      // window's first row, so the log reads in order where the engine runs both at once.
      await Promise.all(closing);
      await write(event);
    },

    /** Writes every rate-limit count still held in memory (at shutdown). */
    async flush() {
      windows.clear();
      await Promise.all(closing);
    },

    /** A page of events, newest first, optionally for one user or of one type. */
    /**
     * `email`: also the failed sign-ins at that address, which name it (`email=…`) rather
     * than a user; with `userId` too, that user's events and those.
     */
    async list(query: { before?: number; limit: number; userId?: string; email?: string; type?: AuditEventType }) {
      const byUser = query.userId === undefined ? undefined : eq(auditEvents.userId, query.userId);
      const atAddress =
        query.email === undefined
          ? undefined
          : and(isNull(auditEvents.userId), eq(auditEvents.detail, `email=${query.email}`));
      const events = await db
        .select()
        .from(auditEvents)
        .where(
          and(
            query.before === undefined ? undefined : lt(auditEvents.id, query.before),
            byUser && atAddress ? or(byUser, atAddress) : (byUser ?? atAddress),
            query.type === undefined ? undefined : eq(auditEvents.type, query.type),
          ),
        )
        .orderBy(desc(auditEvents.id))
        .limit(query.limit + 1);
      const hasMore = events.length > query.limit;
      const page = events.slice(0, query.limit);
      return { events: page, nextCursor: hasMore ? (page.at(-1)?.id ?? null) : null };
    },

    /** Writes the counts of ended rate-limit windows; deletes events older than `retentionDays`, returns how many. */
    async prune(now: Date, retentionDays: number): Promise<number> {
      const ended = [...windows.entries()].filter(([, window]) => !isOpen(window, now));
      for (const [key] of ended) windows.delete(key);
      await Promise.all(closing);
      const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
      const deleted = await db.delete(auditEvents).where(lt(auditEvents.at, cutoff)).returning({ id: auditEvents.id });
      return deleted.length;
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
