// The outbox worker against a real database with an injected clock: it sends and deletes,
// retries with a doubling delay, drops what expired, survives transports that throw or
// hang, honours leases, and two workers on one database file never send a mail twice.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { expect, test, vi } from 'vitest';
import { type Db, openDatabase } from '../../../db/client.ts';
import { migrateDatabase } from '../../../db/migrate.ts';
import { outbox, users } from '../../../db/schema.ts';
import { type AuditEventType, createAuditLog } from '../../../server/auth/audit-log.ts';
import type { Logger } from '../../../server/logger.ts';
import { createMailer } from '../../../server/mail/mailer.ts';
import { createOutbox, enqueueMail } from '../../../server/mail/outbox.ts';
import {
  type MailTransport,
  type MemoryTransport,
  type OutgoingMail,
  createMemoryTransport,
} from '../../../server/mail/transports.ts';
import { LEASE_MS, MAX_RETRY_MS, createMailWorker, retryDelayMs } from '../../../server/mail/worker.ts';
import { testConfig } from '../../helpers/config.ts';
import { nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { createClock } from '../../helpers/server.ts';

const TOKEN = 'tok3n-that-must-not-leak';
const LINK = `http://localhost:5173/reset-password#token=${TOKEN}`;

function migrated(path = ':memory:') {
  const db = openDatabase(path);
  migrateDatabase(db);
  return db;
}

/** A worker over `db` with a hand-moved clock, a recording logger and the real audit log. */
function setup({
  db = migrated(),
  transport = createMemoryTransport() as MailTransport,
  sendTimeoutMs = 1000,
  pollMs = undefined as number | undefined,
} = {}) {
  const clock = createClock(new Date('2030-01-01T00:00:00Z'));
  const lines: string[] = [];
  const record = (message: string, details?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(details)}`);
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  const auditLog = createAuditLog(db);
  const worker = createMailWorker({ db, transport, logger, auditLog, now: clock.now, sendTimeoutMs, pollMs });
  // The audit log names the user the mail concerns: a real account.
  const { id: userId } = db
    .insert(users)
    .values({ email: `${randomBytes(4).toString('hex')}@example.com`, passwordHash: 'unused' })
    .returning({ id: users.id })
    .get();
  return {
    db,
    userId,
    clock,
    lines,
    worker,
    enqueue: (to = 'ada@example.com', lifetimeSeconds = 3600) =>
      enqueueMail(
        db,
        { kind: 'password_reset', data: { link: LINK }, to, userId },
        { now: clock.now(), expiresAt: new Date(clock.now().getTime() + lifetimeSeconds * 1000) },
      ),
    rows: () => db.select().from(outbox).all(),
    audits: (type: AuditEventType) =>
      auditLog
        .list({ limit: 100, type })
        .events.map(({ userId, detail, outcome }) => ({ userId, detail, outcome }))
        .reverse(),
  };
}

/** Fails its first `failures` sends the way nodemailer does, echoing the mail (as a hostile server might). */
function flakyTransport(failures: number) {
  const memory = createMemoryTransport();
  let calls = 0;
  return Object.assign(memory, {
    send: async (mail: OutgoingMail) => {
      if (++calls <= failures) {
        throw Object.assign(new Error(`Can't send mail - all recipients were rejected: 550 ${mail.text}`), {
          code: 'EENVELOPE',
          responseCode: 550,
        });
      }
      memory.sent.push({ from: 'x', ...mail });
    },
  });
}

test('sends a due mail once, deletes its row (no link stays behind) and audits mail_sent with only the kind', async () => {
  const transport = createMemoryTransport();
  const { worker, enqueue, rows, audits, userId } = setup({ transport });
  enqueue();

  expect(await worker.runOnce()).toBe(1);
  expect(await worker.runOnce()).toBe(0);
  expect(transport.sent).toHaveLength(1);
  expect(transport.sent[0]).toMatchObject({ to: 'ada@example.com', subject: expect.stringContaining('Reset') });
  expect(transport.sent[0]!.text).toContain(LINK);
  expect(rows()).toEqual([]);
  expect(audits('mail_sent')).toEqual([{ userId, detail: 'password_reset', outcome: 'success' }]);
});

test('a failed send stays queued with its error code and is retried after 5 s, then 10 s, then 20 s', async () => {
  const transport = flakyTransport(3);
  const { worker, clock, enqueue, rows, audits } = setup({ transport });
  enqueue();

  expect(await worker.runOnce()).toBe(0);
  expect(rows()).toMatchObject([
    { attempts: 1, lastError: 'EENVELOPE 550', nextAttemptAt: new Date(clock.now().getTime() + 5000) },
  ]);
  for (const delay of [5, 10, 20]) {
    clock.advance(delay - 1);
    expect(await worker.runOnce(), `retried before ${delay} s`).toBe(0);
    expect(rows()[0]!.attempts).toBe(delay === 5 ? 1 : delay === 10 ? 2 : 3);
    clock.advance(1);
    await worker.runOnce();
  }
  expect(transport.sent).toHaveLength(1);
  expect(rows()).toEqual([]);
  expect(audits('mail_failed').map((a) => a.detail)).toEqual([
    'password_reset, attempt 1: EENVELOPE 550',
    'password_reset, attempt 2: EENVELOPE 550',
    'password_reset, attempt 3: EENVELOPE 550',
  ]);
  expect(audits('mail_sent')).toHaveLength(1);
});

test('retry delays double from 5 seconds and stop growing at 10 minutes', () => {
  expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([5000, 10_000, 20_000, 40_000]);
  expect(retryDelayMs(8)).toBe(MAX_RETRY_MS);
  expect(retryDelayMs(1000)).toBe(MAX_RETRY_MS);
});

test('a failure is recorded by its code only: the link is in no audit event, log line or outbox error', async () => {
  const { worker, db, enqueue, lines, rows } = setup({ transport: flakyTransport(1) });
  enqueue();
  await worker.runOnce();

  expect(lines.join('\n')).toContain('EENVELOPE 550');
  expect(lines.join('\n')).not.toContain(TOKEN);
  expect(rows()[0]!.lastError).toBe('EENVELOPE 550');
  const events = db.$client.prepare('SELECT * FROM audit_events').all();
  expect(events).toHaveLength(1);
  expect(JSON.stringify(events)).not.toContain(TOKEN);
});

test('a mail that expired unsent is dropped and audited as mail_expired, and never sent', async () => {
  const transport = flakyTransport(1);
  const { worker, clock, enqueue, rows, audits, userId } = setup({ transport });
  enqueue('ada@example.com', 60);
  enqueue('bob@example.com', 3600);
  await worker.runOnce(); // ada's mail fails once, bob's goes out

  clock.advance(61);
  expect(await worker.runOnce()).toBe(0);
  expect(transport.sent.map((m) => m.to)).toEqual(['bob@example.com']);
  expect(rows()).toEqual([]);
  expect(audits('mail_expired')).toEqual([
    { userId, detail: 'password_reset, after 1 attempt(s)', outcome: 'failure' },
  ]);
});

test('a goodbye mail outlives its account: it is sent, and audited without the deleted user', async () => {
  const transport = createMemoryTransport();
  const { worker, db, clock, userId, audits } = setup({ transport });
  enqueueMail(db, { kind: 'account_deleted', data: {}, to: 'ada@example.com', userId }, { now: clock.now() });
  db.delete(users).where(eq(users.id, userId)).run();

  expect(await worker.runOnce()).toBe(1);
  expect(audits('mail_sent')).toEqual([{ userId: null, detail: 'account_deleted', outcome: 'success' }]);
});

test('a transport that throws synchronously is a failed attempt, not a crash', async () => {
  const transport: MailTransport = {
    send: () => {
      throw new TypeError('broken transport');
    },
    close: () => {},
  };
  const { worker, enqueue, rows } = setup({ transport });
  enqueue();
  await expect(worker.runOnce()).resolves.toBe(0);
  expect(rows()).toMatchObject([{ attempts: 1, lastError: 'TypeError' }]);
});

test('a transport that never answers is abandoned after the send timeout, aborted, and retried later', async () => {
  const signals: AbortSignal[] = [];
  const transport: MailTransport = {
    send: (_, options) => {
      signals.push(options!.signal!);
      return new Promise(() => {});
    },
    close: () => {},
  };
  const { worker, enqueue, rows } = setup({ transport, sendTimeoutMs: 50 });
  enqueue();
  enqueue('bob@example.com');

  await expect(worker.runOnce()).resolves.toBe(0);
  expect(signals).toHaveLength(2);
  expect(signals.every((signal) => signal.aborted)).toBe(true);
  expect(rows().map((row) => row.lastError)).toEqual(['ETIMEDOUT', 'ETIMEDOUT']);
});

test('a mail whose worker died mid-send (its lease) goes out again only once the lease runs out', async () => {
  const transport = createMemoryTransport();
  const { worker, db, clock, enqueue } = setup({ transport });
  enqueue();
  // A worker in another process claimed it, then was killed before it could send.
  createOutbox(db).claimNext(clock.now(), new Date(clock.now().getTime() + LEASE_MS));

  clock.advance(LEASE_MS / 1000 - 1);
  expect(await worker.runOnce()).toBe(0);
  clock.advance(1);
  expect(await worker.runOnce()).toBe(1);
  expect(transport.sent).toHaveLength(1);
});

test('a claim never hands out a mail that has expired, even one nobody has dropped yet', () => {
  const { db, clock, enqueue } = setup();
  enqueue('ada@example.com', 60);
  clock.advance(60);
  expect(createOutbox(db).claimNext(clock.now(), new Date(clock.now().getTime() + LEASE_MS))).toBeUndefined();
});

test('two workers on one database file, each with its own connection, never send the same mail twice', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'outbox-')), 'app.db');
  const slowMemory = () => {
    const memory = createMemoryTransport();
    // Yield on every send, so the two workers interleave between their claims.
    const send = memory.send;
    return Object.assign(memory, {
      send: async (mail: OutgoingMail) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        await send(mail);
      },
    });
  };
  const [a, b] = [slowMemory(), slowMemory()];
  const first = setup({ db: migrated(path), transport: a });
  const second = setup({ db: openDatabase(path), transport: b });
  const addresses = Array.from({ length: 40 }, (_, i) => `user-${i}@example.com`);
  for (const to of addresses) first.enqueue(to);

  const [sentByA, sentByB] = await Promise.all([first.worker.runOnce(), second.worker.runOnce()]);

  const delivered = [...a.sent, ...b.sent].map((mail) => mail.to);
  expect(delivered.toSorted()).toEqual(addresses.toSorted());
  expect(sentByA + sentByB).toBe(40);
  // Both took part, so the absence of duplicates means something.
  expect(sentByA).toBeGreaterThan(0);
  expect(sentByB).toBeGreaterThan(0);
  first.db.$client.close();
  second.db.$client.close();
});

test('a started worker sends a mail as soon as it is woken, without waiting for its poll', async () => {
  const transport = createMemoryTransport();
  const { worker, enqueue } = setup({ transport, pollMs: 60_000 });
  worker.start();
  try {
    await worker.runOnce(); // the worker's first look is over: it now waits for its poll
    enqueue();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(transport.sent, 'sent without a wake').toHaveLength(0);

    worker.wake();
    await vi.waitFor(() => expect(transport.sent).toHaveLength(1), { timeout: 1000 });
  } finally {
    await worker.stop();
  }
});

test('the poll finds a mail nobody woke the worker for', async () => {
  const transport = createMemoryTransport();
  const { worker, enqueue } = setup({ transport, pollMs: 50 });
  worker.start();
  try {
    enqueue();
    await vi.waitFor(() => expect(transport.sent).toHaveLength(1), { timeout: 1000 });
  } finally {
    await worker.stop();
  }
});

test('stop waits for the send in flight and leaves the rest queued, unclaimed, for the next start', async () => {
  let finishSend = () => {};
  const started: string[] = [];
  const transport: MailTransport = {
    send: (mail) => {
      started.push(mail.to);
      return new Promise<void>((resolve) => (finishSend = resolve));
    },
    close: () => {},
  };
  const { worker, enqueue, rows } = setup({ transport });
  enqueue('ada@example.com');
  enqueue('bob@example.com');
  worker.start();
  await vi.waitFor(() => expect(started).toHaveLength(1));

  let isStopped = false;
  const stopping = worker.stop().then(() => (isStopped = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(isStopped, 'stopped with a send in flight').toBe(false);
  finishSend();
  await stopping;

  expect(started).toEqual(['ada@example.com']);
  // Not even leased: a restart sends it at once.
  expect(rows()).toMatchObject([{ to: 'bob@example.com', attempts: 0 }]);
});

test('the mailer queues in the caller transaction and wakes its worker after the commit; a rollback sends nothing', async () => {
  const db: Db = migrated();
  const config = testConfig();
  const mail = createMailer({
    db,
    config,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    auditLog: createAuditLog(db),
    now: () => new Date(),
  });
  mail.start();
  try {
    await mail.worker.runOnce(); // the worker's first look is over: it now waits for its poll
    const now = new Date();
    expect(() =>
      db.transaction(() => {
        mail.enqueue({ kind: 'account_deleted', data: {}, to: 'rolled-back@example.com' }, { now });
        throw new Error('the token insert failed');
      }),
    ).toThrow('the token insert failed');
    db.transaction(() => {
      mail.enqueue(
        { kind: 'sign_up', data: { link: 'http://localhost:5173/complete-sign-up#token=abc' }, to: 'ada@example.com' },
        { now },
      );
    });

    // Woken, the worker sends at once (its poll is 5 s away).
    const transport = mail.transport as MemoryTransport;
    await vi.waitFor(() => expect(transport.sent.map((m) => m.to)).toEqual(['ada@example.com']), { timeout: 1000 });
    expect(tokenFromLink((await nextMailTo({ services: { mail } }, 'ada@example.com')).link)).toBe('abc');
    await expect(nextMailTo({ services: { mail } }, 'rolled-back@example.com')).rejects.toThrow('No mail');
  } finally {
    await mail.stop();
  }
});
