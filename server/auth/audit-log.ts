// The security audit log: one row per security-relevant event. Edit AUDIT_EVENT_TYPES
// in db/schema.ts to record more; never put a password, token or hash in `detail`.
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AUDIT_EVENT_TYPES, auditEvents } from '../../db/schema.ts';

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];
export type AuditEvent = typeof auditEvents.$inferInsert;

/**
 * @example
 * const audit = createAuditLog(db)
 * audit.record({ at: new Date(), type: 'login', outcome: 'failure', ip, userAgent, detail: 'unknown e-mail or wrong password' })
 * audit.list({ limit: 50 }) // newest first; pass `before: nextCursor` for the next page
 */
export function createAuditLog(db: Db) {
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

  return {
    record(event: AuditEvent) {
      insert.run({ userId: null, sessionId: null, ip: null, userAgent: null, detail: null, ...event });
    },

    /** A page of events, newest first, optionally for one user or of one type. */
    list(query: { before?: number; limit: number; userId?: string; type?: AuditEventType }) {
      const events = db
        .select()
        .from(auditEvents)
        .where(
          and(
            query.before === undefined ? undefined : lt(auditEvents.id, query.before),
            query.userId === undefined ? undefined : eq(auditEvents.userId, query.userId),
            query.type === undefined ? undefined : eq(auditEvents.type, query.type),
          ),
        )
        .orderBy(desc(auditEvents.id))
        .limit(query.limit + 1)
        .all();
      const hasMore = events.length > query.limit;
      const page = events.slice(0, query.limit);
      return { events: page, nextCursor: hasMore ? (page.at(-1)?.id ?? null) : null };
    },

    /** Deletes events older than `retentionDays`; returns how many. */
    prune(now: Date, retentionDays: number): number {
      const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
      return db.delete(auditEvents).where(lt(auditEvents.at, cutoff)).run().changes;
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
