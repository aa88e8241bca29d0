// The outbox worker against a real database with an injected clock: it sends and deletes,
// retries with a doubling delay, drops what expired, survives transports that throw or
// hang, honours leases, and two workers on one database (two connections) never send a mail twice.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eq } from 'drizzle-orm';
import { afterEach, expect, test, vi } from 'vitest';
import { type Db, openDatabase } from '../../../db/client.ts';
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
import { TEST_ENGINE, createPostgresDatabase, openTestDatabase } from '../../helpers/database.ts';
import { nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { ROOT, createClock } from '../../helpers/server.ts';

const TOKEN = 'tok3n-that-must-not-leak';
const LINK = `http://localhost:5173/reset-password#token=${TOKEN}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh migrated database of this run's engine, closed after the test. */
async function freshDatabase() {
  const db = await openTestDatabase();
  cleanups.push(() => db.close());
  return db;
}

/**
 * A fresh, migrated database a second process can open too: a SQLite file, or a database on
 * the PostgreSQL server. Returns its URL and this process's connection, closed after the test.
 */
async function sharedDatabase(): Promise<{ url: string; db: Db }> {
  if (TEST_ENGINE === 'postgres') {
    const { url, drop } = await createPostgresDatabase();
    const db = await openDatabase(url);
    cleanups.push(async () => {
      await db.close();
      await drop();
    });
    return { url, db };
  }
  const url = join(mkdtempSync(join(tmpdir(), 'outbox-')), 'app.db');
  const db = await openDatabase(url);
  cleanups.push(() => db.close());
  await db.migrate();
  return { url, db };
}

/**
 * A mail worker in another process, on the database at DATABASE_URL, with the clock at NOW
 * and a memory transport that yields on every send (as slowMemory below). It says `ready`,
 * runs once when told `go` on stdin, then prints what it sent as JSON.
 */
const OTHER_PROCESS_WORKER = `
const [{ openDatabase }, { createAuditLog }, { createMemoryTransport }, { createMailWorker }] = await Promise.all(
  ${JSON.stringify(['db/client.ts', 'server/auth/audit-log.ts', 'server/mail/transports.ts', 'server/mail/worker.ts'].map((path) => pathToFileURL(join(ROOT, path)).href))}.map((url) => import(url)),
);
const db = await openDatabase(process.env.DATABASE_URL);
const memory = createMemoryTransport();
const transport = {
  ...memory,
  send: async (mail) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await memory.send(mail);
  },
};
const report = (message, details) => console.error(message, JSON.stringify(details));
const logger = { debug() {}, info() {}, warn: report, error: report };
const now = () => new Date(process.env.NOW);
const worker = createMailWorker({ db, transport, logger, auditLog: createAuditLog(db), now });
await db.ping();
console.log('ready');
await new Promise((resolve) => process.stdin.once('data', resolve));
const sent = await worker.runOnce();
console.log(JSON.stringify({ sent, to: memory.sent.map((mail) => mail.to) }));
await db.close();
process.exit(0);
`;

/** Starts OTHER_PROCESS_WORKER; `go()` resolves with what it sent once it has run. */
async function workerInAnotherProcess(databaseUrl: string, now: Date) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
      '--input-type=module',
      '-e',
      OTHER_PROCESS_WORKER,
    ],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, NOW: now.toISOString() } },
  );
  cleanups.push(async () => void child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = new Promise<string[]>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.split('\n').length > 2) resolve(stdout.split('\n'));
    });
    child.on('exit', (code) => reject(new Error(`The other worker exited (${code}): ${stdout}${stderr}`)));
  });
  await vi.waitFor(() => expect(stdout, stderr).toContain('ready\n'), { timeout: 20_000, interval: 20 });
  return {
    go: async () => {
      child.stdin.write('go\n');
      const [, result] = await lines;
      return { ...(JSON.parse(result!) as { sent: number; to: string[] }), stderr: () => stderr };
    },
  };
}

/** A worker over `db` with a hand-moved clock, a recording logger and the real audit log. */
async function setup({
  db: given = undefined as Db | undefined,
  transport = createMemoryTransport() as MailTransport,
  sendTimeoutMs = 1000,
  pollMs = undefined as number | undefined,
} = {}) {
  const db = given ?? (await freshDatabase());
  const { outbox, users } = db.tables;
  const clock = createClock(new Date('2030-01-01T00:00:00Z'));
  const lines: string[] = [];
  const record = (message: string, details?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(details)}`);
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  const auditLog = createAuditLog(db);
  const worker = createMailWorker({ db, transport, logger, auditLog, now: clock.now, sendTimeoutMs, pollMs });
  // The audit log names the user the mail concerns: a real account.
  const [{ id: userId }] = (await db
    .insert(users)
    .values({ email: `${randomBytes(4).toString('hex')}@example.com`, passwordHash: 'unused' })
    .returning({ id: users.id })) as [{ id: string }];
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
    rows: () => db.select().from(outbox),
    audits: async (type: AuditEventType) =>
      (await auditLog.list({ limit: 100, type })).events
        .map(({ userId, detail, outcome }) => ({ userId, detail, outcome }))
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
  const { worker, enqueue, rows, audits, userId } = await setup({ transport });
  await enqueue();

  expect(await worker.runOnce()).toBe(1);
  expect(await worker.runOnce()).toBe(0);
  expect(transport.sent).toHaveLength(1);
  expect(transport.sent[0]).toMatchObject({ to: 'ada@example.com', subject: expect.stringContaining('Reset') });
  expect(transport.sent[0]!.text).toContain(LINK);
  expect(await rows()).toEqual([]);
  expect(await audits('mail_sent')).toEqual([{ userId, detail: 'password_reset', outcome: 'success' }]);
});

test('a failed send stays queued with its error code and is retried after 5 s, then 10 s, then 20 s', async () => {
  const transport = flakyTransport(3);
  const { worker, clock, enqueue, rows, audits } = await setup({ transport });
  await enqueue();

  expect(await worker.runOnce()).toBe(0);
  expect(await rows()).toMatchObject([
    { attempts: 1, lastError: 'EENVELOPE 550', nextAttemptAt: new Date(clock.now().getTime() + 5000) },
  ]);
  for (const delay of [5, 10, 20]) {
    clock.advance(delay - 1);
    expect(await worker.runOnce(), `retried before ${delay} s`).toBe(0);
    expect((await rows())[0]!.attempts).toBe(delay === 5 ? 1 : delay === 10 ? 2 : 3);
    clock.advance(1);
    await worker.runOnce();
  }
  expect(transport.sent).toHaveLength(1);
  expect(await rows()).toEqual([]);
  expect((await audits('mail_failed')).map((a) => a.detail)).toEqual([
    'password_reset, attempt 1: EENVELOPE 550',
    'password_reset, attempt 2: EENVELOPE 550',
    'password_reset, attempt 3: EENVELOPE 550',
  ]);
  expect(await audits('mail_sent')).toHaveLength(1);
});

test('retry delays double from 5 seconds and stop growing at 10 minutes', () => {
  expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([5000, 10_000, 20_000, 40_000]);
  expect(retryDelayMs(8)).toBe(MAX_RETRY_MS);
  expect(retryDelayMs(1000)).toBe(MAX_RETRY_MS);
});

test('a failure is recorded by its code only: the link is in no audit event, log line or outbox error', async () => {
  const { worker, db, enqueue, lines, rows } = await setup({ transport: flakyTransport(1) });
  await enqueue();
  await worker.runOnce();

  expect(lines.join('\n')).toContain('EENVELOPE 550');
  expect(lines.join('\n')).not.toContain(TOKEN);
  expect((await rows())[0]!.lastError).toBe('EENVELOPE 550');
  const events = await db.select().from(db.tables.auditEvents);
  expect(events).toHaveLength(1);
  expect(JSON.stringify(events)).not.toContain(TOKEN);
});

test('a mail that expired unsent is dropped and audited as mail_expired, and never sent', async () => {
  const transport = flakyTransport(1);
  const { worker, clock, enqueue, rows, audits, userId } = await setup({ transport });
  await enqueue('ada@example.com', 60);
  await enqueue('bob@example.com', 3600);
  await worker.runOnce(); // ada's mail fails once, bob's goes out

  clock.advance(61);
  expect(await worker.runOnce()).toBe(0);
  expect(transport.sent.map((m) => m.to)).toEqual(['bob@example.com']);
  expect(await rows()).toEqual([]);
  expect(await audits('mail_expired')).toEqual([
    { userId, detail: 'password_reset, after 1 attempt(s)', outcome: 'failure' },
  ]);
});

test('a goodbye mail outlives its account: it is sent, and audited without the deleted user', async () => {
  const transport = createMemoryTransport();
  const { worker, db, clock, userId, audits } = await setup({ transport });
  await enqueueMail(db, { kind: 'account_deleted', data: {}, to: 'ada@example.com', userId }, { now: clock.now() });
  const { users } = db.tables;
  await db.delete(users).where(eq(users.id, userId));

  expect(await worker.runOnce()).toBe(1);
  expect(await audits('mail_sent')).toEqual([{ userId: null, detail: 'account_deleted', outcome: 'success' }]);
});

test('a transport that throws synchronously is a failed attempt, not a crash', async () => {
  const transport: MailTransport = {
    send: () => {
      throw new TypeError('broken transport');
    },
    close: () => {},
  };
  const { worker, enqueue, rows } = await setup({ transport });
  await enqueue();
  await expect(worker.runOnce()).resolves.toBe(0);
  expect(await rows()).toMatchObject([{ attempts: 1, lastError: 'TypeError' }]);
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
  const { worker, enqueue, rows } = await setup({ transport, sendTimeoutMs: 50 });
  await enqueue();
  await enqueue('bob@example.com');

  await expect(worker.runOnce()).resolves.toBe(0);
  expect(signals).toHaveLength(2);
  expect(signals.every((signal) => signal.aborted)).toBe(true);
  expect((await rows()).map((row) => row.lastError)).toEqual(['ETIMEDOUT', 'ETIMEDOUT']);
});

test('a mail whose worker died mid-send (its lease) goes out again only once the lease runs out', async () => {
  const transport = createMemoryTransport();
  const { worker, db, clock, enqueue } = await setup({ transport });
  await enqueue();
  // A worker in another process claimed it, then was killed before it could send.
  await createOutbox(db).claimNext(clock.now(), new Date(clock.now().getTime() + LEASE_MS));

  clock.advance(LEASE_MS / 1000 - 1);
  expect(await worker.runOnce()).toBe(0);
  clock.advance(1);
  expect(await worker.runOnce()).toBe(1);
  expect(transport.sent).toHaveLength(1);
});

test('a claim never hands out a mail that has expired, even one nobody has dropped yet', async () => {
  const { db, clock, enqueue } = await setup();
  await enqueue('ada@example.com', 60);
  clock.advance(60);
  expect(await createOutbox(db).claimNext(clock.now(), new Date(clock.now().getTime() + LEASE_MS))).toBeUndefined();
});

// A second process is the only way to a second connection here: on SQLite, two connections
// in one process would block each other (better-sqlite3 waits for the lock synchronously,
// holding the thread the other one needs to commit), and PGlite is one in-process connection.
test.skipIf(TEST_ENGINE === 'pglite')(
  'two workers on one database, each in its own process with its own connection, never send the same mail twice',
  { timeout: 30_000 },
  async () => {
    // 10 ms a send: alone, A would need 400 ms, far longer than B takes to start, so the two
    // workers interleave between their claims however the processes are scheduled.
    const memory = createMemoryTransport();
    const a = Object.assign(memory, {
      send: async (mail: OutgoingMail) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        memory.sent.push({ from: 'x', ...mail });
      },
    });
    const { url, db } = await sharedDatabase();
    const first = await setup({ db, transport: a });
    const second = await workerInAnotherProcess(url, first.clock.now());
    const addresses = Array.from({ length: 40 }, (_, i) => `user-${i}@example.com`);
    for (const to of addresses) await first.enqueue(to);

    const [sentByA, b] = await Promise.all([first.worker.runOnce(), second.go()]);
    const sentByB = b.sent;

    const delivered = [...a.sent.map((mail) => mail.to), ...b.to];
    expect(delivered.toSorted()).toEqual(addresses.toSorted());
    expect(sentByA + sentByB).toBe(40);
    // Both took part, so the absence of duplicates means something.
    expect(sentByA).toBeGreaterThan(0);
    expect(sentByB, b.stderr()).toBeGreaterThan(0);
  },
);

test('a started worker sends a mail as soon as it is woken, without waiting for its poll', async () => {
  const transport = createMemoryTransport();
  const { worker, enqueue } = await setup({ transport, pollMs: 60_000 });
  worker.start();
  try {
    await worker.runOnce(); // the worker's first look is over: it now waits for its poll
    await enqueue();
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
  const { worker, enqueue } = await setup({ transport, pollMs: 50 });
  worker.start();
  try {
    await enqueue();
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
  const { worker, enqueue, rows } = await setup({ transport });
  await enqueue('ada@example.com');
  await enqueue('bob@example.com');
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
  expect(await rows()).toMatchObject([{ to: 'bob@example.com', attempts: 0 }]);
});

test('the mailer queues in the caller transaction, its worker woken after the commit sends at once; a rollback sends nothing', async () => {
  const db = await freshDatabase();
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
    await expect(
      db.transaction(async () => {
        await mail.enqueue({ kind: 'account_deleted', data: {}, to: 'rolled-back@example.com' }, { now });
        throw new Error('the token insert failed');
      }),
    ).rejects.toThrow('the token insert failed');
    await db.transaction(async () => {
      await mail.enqueue(
        { kind: 'sign_up', data: { link: 'http://localhost:5173/complete-sign-up#token=abc' }, to: 'ada@example.com' },
        { now },
      );
    });
    mail.wake(); // as the server does once the transaction has committed

    // Woken, the worker sends at once (its poll is 5 s away).
    const transport = mail.transport as MemoryTransport;
    await vi.waitFor(() => expect(transport.sent.map((m) => m.to)).toEqual(['ada@example.com']), { timeout: 1000 });
    expect(tokenFromLink((await nextMailTo({ services: { mail } }, 'ada@example.com')).link)).toBe('abc');
    await expect(nextMailTo({ services: { mail } }, 'rolled-back@example.com')).rejects.toThrow('No mail');
  } finally {
    await mail.stop();
  }
});
