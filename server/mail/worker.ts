// The mail worker: runs in the server process, takes due rows from the outbox, sends them,
// and deletes each once sent; a failure is retried later with a doubling delay, an expired
// mail is dropped. Edit it to tune the delays; nothing here may ever throw into the process.
import type { Db } from '../../db/client.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { Logger } from '../logger.ts';
import { type OutboxRow, createOutbox } from './outbox.ts';
import { type MailTransport, errorCode } from './transports.ts';

/** Retry delays: 5 s, 10 s, 20 s… never more than 10 minutes apart. */
export const FIRST_RETRY_MS = 5_000;
export const MAX_RETRY_MS = 10 * 60_000;
/** A send that takes longer is abandoned (and retried). */
export const SEND_TIMEOUT_MS = 30_000;
/** How long a claimed row is ours; longer than any send, so no other worker takes it mid-send. */
export const LEASE_MS = 2 * 60_000;

/** The delay before attempt `attempt + 1`. @example retryDelayMs(1) // => 5000 */
export const retryDelayMs = (attempt: number) => Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), MAX_RETRY_MS);

export interface MailWorkerDeps {
  db: Db;
  transport: MailTransport;
  logger: Logger;
  auditLog: Pick<AuditLog, 'record'>;
  now: () => Date;
  /** The safety net: look for due mail this often even when nobody wakes the worker. */
  pollMs?: number;
  sendTimeoutMs?: number;
}

/**
 * @example
 * const worker = createMailWorker({ db, transport, logger, auditLog, now: () => new Date() })
 * worker.start() // after the server listens
 * worker.wake() // after a request committed a mail
 * await worker.stop() // at shutdown: waits for a send in flight
 */
export function createMailWorker({
  db,
  transport,
  logger,
  auditLog,
  now,
  pollMs = 5_000,
  sendTimeoutMs = SEND_TIMEOUT_MS,
}: MailWorkerDeps) {
  const outbox = createOutbox(db);
  let isStopping = false;

  async function sendWithTimeout(row: OutboxRow) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = Object.assign(new Error('send timed out'), { code: 'ETIMEDOUT' });
        controller.abort(error);
        reject(error);
      }, sendTimeoutMs);
      timer.unref();
    });
    try {
      const { to, subject, text, html } = row;
      // Inside the async function, so a transport that throws synchronously rejects here.
      await Promise.race([transport.send({ to, subject, text, html }, { signal: controller.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function deliver(row: OutboxRow): Promise<boolean> {
    try {
      await sendWithTimeout(row);
    } catch (error) {
      const code = errorCode(error);
      const at = now();
      const retryAt = new Date(at.getTime() + retryDelayMs(row.attempts));
      await outbox.reschedule(row.id, retryAt, code);
      await auditLog.record({
        at,
        type: 'mail_failed',
        outcome: 'failure',
        userId: await outbox.auditUserId(row.userId),
        detail: `${row.kind}, attempt ${row.attempts}: ${code}`,
      });
      logger.warn('Mail not sent; will retry', { kind: row.kind, attempt: row.attempts, code, retryAt });
      return false;
    }
    await outbox.remove(row.id);
    await auditLog.record({
      at: now(),
      type: 'mail_sent',
      outcome: 'success',
      userId: await outbox.auditUserId(row.userId),
      detail: row.kind,
    });
    return true;
  }

  /** Sends everything due now; returns how many mails went out. */
  async function drain(): Promise<number> {
    let sent = 0;
    try {
      for (const dropped of await outbox.dropExpired(now())) {
        await auditLog.record({
          at: now(),
          type: 'mail_expired',
          outcome: 'failure',
          userId: await outbox.auditUserId(dropped.userId),
          detail: `${dropped.kind}, after ${dropped.attempts} attempt(s)`,
        });
        logger.warn('Mail expired unsent', { kind: dropped.kind, attempts: dropped.attempts });
      }
      while (!isStopping) {
        const at = now();
        const row = await outbox.claimNext(at, new Date(at.getTime() + LEASE_MS));
        if (!row) break;
        if (await deliver(row)) sent++;
      }
    } catch (error) {
      // The database itself failed (closed, disk full): try again at the next wake or poll.
      logger.error('Mail worker failed', { code: errorCode(error) });
    }
    return sent;
  }

  // One drain at a time in this process, in order.
  let queue: Promise<number> = Promise.resolve(0);
  const runOnce = (): Promise<number> => (queue = queue.then(drain));

  let loop: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let endPause: (() => void) | undefined;
  // Set by wake(): a wake during a drain means one more drain right after it.
  let isWoken = false;
  const pause = () =>
    new Promise<void>((resolve) => {
      if (isWoken || isStopping) return resolve();
      endPause = resolve;
      timer = setTimeout(resolve, pollMs);
      // The worker never keeps the process alive: shutdown decides when it ends.
      timer.unref();
    });

  return {
    /** Sends what is due now, then every `pollMs` and whenever woken. */
    start() {
      if (loop || isStopping) return;
      loop = (async () => {
        while (!isStopping) {
          isWoken = false;
          await runOnce();
          await pause();
        }
      })();
    },

    /** Look now: a request just committed a mail. Cheap; call it after every enqueue. */
    wake() {
      isWoken = true;
      clearTimeout(timer);
      endPause?.();
    },

    /** Stops the worker; resolves once a send in flight has finished (the rest stay queued). */
    async stop() {
      isStopping = true;
      clearTimeout(timer);
      endPause?.();
      await loop;
      await queue;
    },

    /** Sends everything due now, in this process; returns how many mails went out. For tests and scripts. */
    runOnce,
  };
}

export type MailWorker = ReturnType<typeof createMailWorker>;
