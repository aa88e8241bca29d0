// The outbox table: enqueueMail writes a rendered mail in the caller's transaction, and
// createOutbox gives the worker its few queries (claim with a lease, delete, reschedule,
// drop the expired). Edit it to change how rows are picked or kept.
import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { type Db, type Tables, placeholderFor } from '../../db/client.ts';
import { createId } from '../../db/ids.ts';
import { type MailData, type MailKind, renderMail } from './templates.ts';

export type OutboxRow = Tables['outbox']['$inferSelect'];

/** How long a mail without a link (a notice) may wait for a working SMTP server. */
export const DEFAULT_MAIL_LIFETIME_SECONDS = 3 * 24 * 3600;

export interface MailRequest<K extends MailKind> {
  kind: K;
  data: MailData[K];
  to: string;
  /** Whom the mail concerns, for the audit log; null when there is no account (sign-up). */
  userId?: string | null;
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** "24 hours", "1 hour", "30 minutes": rounded down, so a mail never promises more time than there is. */
function describeDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return minutes >= 60 && (minutes >= 120 || minutes % 60 === 0)
    ? plural(Math.floor(minutes / 60), 'hour')
    : plural(minutes, 'minute');
}

/**
 * Renders a mail and queues it; returns the row's id. Call it inside the caller's
 * `db.transaction(async () => …)` beside the token the mail carries: both are committed,
 * or neither. Pass the token's expiry as `expiresAt`, so an unsent mail never outlives its
 * token (and the template says how long the link works). Wake the worker after the commit.
 *
 * @example
 * await db.transaction(async () => {
 *   const { token, expiresAt } = await emailTokens.issue(…)
 *   await enqueueMail(db, { kind: 'password_reset', data: { link: `${origin}/reset-password#token=${token}` }, to, userId }, { now, expiresAt })
 * })
 * services.mail.wake()
 */
export async function enqueueMail<K extends MailKind>(
  db: Db,
  mail: MailRequest<K>,
  { now, expiresAt = new Date(now.getTime() + DEFAULT_MAIL_LIFETIME_SECONDS * 1000) }: { now: Date; expiresAt?: Date },
): Promise<string> {
  const rendered = renderMail(mail.kind, mail.data, {
    validFor: describeDuration(expiresAt.getTime() - now.getTime()),
  });
  const id = createId();
  await db.insert(db.tables.outbox).values({
    id,
    kind: mail.kind,
    userId: mail.userId ?? null,
    to: mail.to,
    ...rendered,
    createdAt: now,
    expiresAt,
    nextAttemptAt: now,
  });
  return id;
}

/**
 * The worker's queries, prepared once.
 *
 * @example
 * const row = await createOutbox(db).claimNext(now, leaseUntil) // nobody else takes it until leaseUntil
 */
export function createOutbox(db: Db) {
  const { outbox, users } = db.tables;
  const now = placeholderFor(outbox.nextAttemptAt, 'now');
  const dueIds = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(lte(outbox.nextAttemptAt, now), gt(outbox.expiresAt, now)))
    .orderBy(outbox.nextAttemptAt)
    .limit(1);
  // One statement, in a transaction: two workers (two processes on one database) never
  // claim the same row (SQLite holds the write lock; PostgreSQL aborts one of two
  // SERIALIZABLE claims, and its retry takes the next row). Moving nextAttemptAt ahead is
  // the lease: if this process dies mid-send, the row is due again once the lease runs out.
  const claim = db
    .update(outbox)
    .set({ nextAttemptAt: placeholderFor(outbox.nextAttemptAt, 'leaseUntil'), attempts: sql`${outbox.attempts} + 1` })
    .where(inArray(outbox.id, dueIds))
    .returning()
    .prepare();
  const remove = db
    .delete(outbox)
    .where(eq(outbox.id, sql.placeholder('id')))
    .prepare();
  const reschedule = db
    .update(outbox)
    .set({
      nextAttemptAt: placeholderFor(outbox.nextAttemptAt, 'retryAt'),
      lastError: sql`${sql.placeholder('error')}`,
    })
    .where(eq(outbox.id, sql.placeholder('id')))
    .prepare();
  // A row under lease (nextAttemptAt ahead) is being sent right now: its worker decides.
  const dropExpired = db
    .delete(outbox)
    .where(and(lte(outbox.expiresAt, now), lte(outbox.nextAttemptAt, now)))
    .returning({ kind: outbox.kind, userId: outbox.userId, attempts: outbox.attempts })
    .prepare();
  const findUser = db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare();

  return {
    /**
     * Takes the next due, unexpired row until `leaseUntil`, counting the attempt. One at a
     * time: a process that stops or dies holds at most the one it was sending.
     */
    claimNext: async (at: Date, leaseUntil: Date): Promise<OutboxRow | undefined> =>
      (await db.transaction(() => claim.execute({ now: at, leaseUntil })))[0],
    /** Sent: the row goes, and with it the only copy of the link. */
    remove: async (id: string) => {
      await remove.execute({ id });
    },
    /** Failed: due again at `retryAt`; `error` is a code, never the body. */
    reschedule: async (id: string, retryAt: Date, error: string) => {
      await reschedule.execute({ id, retryAt, error });
    },
    /** Deletes what expired unsent (its link is dead anyway); returns what it deleted. */
    dropExpired: (at: Date) => dropExpired.execute({ now: at }),
    /** The row's user for the audit log, or null once the account is gone (a goodbye mail). */
    auditUserId: async (userId: string | null) =>
      userId && (await findUser.execute({ id: userId })).length > 0 ? userId : null,
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
