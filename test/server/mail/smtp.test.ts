// The real SMTP path: nodemailer talking to smtp-server on the loopback. Delivery with the
// right headers and both parts; SMTP down (mail waits, then goes out exactly once); servers
// that are silent or hostile cost an attempt, never the process.
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { createAuditLog } from '../../../server/auth/audit-log.ts';
import { createLogger } from '../../../server/logger.ts';
import { enqueueMail } from '../../../server/mail/outbox.ts';
import { createMailTransport } from '../../../server/mail/transports.ts';
import { createMailWorker } from '../../../server/mail/worker.ts';
import { openTestDatabase } from '../../helpers/database.ts';
import { startSmtpServer } from '../../helpers/mail.ts';
import { createClock, freePort } from '../../helpers/server.ts';

const FROM = 'Starter <no-reply@app.example>';
const LINK = 'http://localhost:5173/complete-sign-up#token=abc_DEF-123';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A worker sending through SMTP at `smtpUrl`, on a fresh database, with a hand-moved clock. */
async function setup(smtpUrl: string) {
  const db = await openTestDatabase();
  const { outbox } = db.tables;
  const clock = createClock(new Date());
  const logger = createLogger('error');
  const transport = createMailTransport({ transport: 'smtp', smtpUrl, from: FROM }, { db, logger });
  const worker = createMailWorker({ db, transport, logger, auditLog: createAuditLog(db), now: clock.now });
  cleanups.push(async () => {
    await worker.stop();
    transport.close();
    await db.close();
  });
  return {
    clock,
    worker,
    enqueue: (to = 'ada@example.com') =>
      enqueueMail(
        db,
        { kind: 'sign_up', data: { link: LINK }, to },
        { now: clock.now(), expiresAt: new Date(clock.now().getTime() + 86_400_000) },
      ),
    rows: () => db.select().from(outbox),
  };
}

async function smtpServer(port?: number) {
  const smtp = await startSmtpServer(port);
  cleanups.push(smtp.close);
  return smtp;
}

/** A TCP server that answers every connection with `behave` (garbage, silence, a hang-up). */
async function rawServer(behave: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    behave(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('delivers through a real SMTP server: sender, recipient, subject, text and HTML as queued', async () => {
  const smtp = await smtpServer();
  const { worker, enqueue, rows } = await setup(smtp.url);
  await enqueue('ada@example.com');

  expect(await worker.runOnce()).toBe(1);
  expect(smtp.received).toHaveLength(1);
  const mail = smtp.received[0]!;
  expect(mail.envelope).toEqual({ from: 'no-reply@app.example', to: ['ada@example.com'] });
  expect(mail.from?.value).toEqual([{ name: 'Starter', address: 'no-reply@app.example' }]);
  expect(mail.to).toMatchObject({ value: [{ address: 'ada@example.com' }] });
  expect(mail.subject).toBe('tRPC JWT starter: Complete your registration');
  expect(mail.text).toContain(LINK);
  expect(mail.html).toContain(`<a href="${LINK}">`);
  expect(await rows()).toEqual([]);
});

test('while nothing listens on the SMTP port the mail waits, queuing stays instant; when SMTP is back it is delivered exactly once', async () => {
  const port = await freePort();
  const { worker, clock, enqueue, rows } = await setup(`smtp://127.0.0.1:${port}`);

  // What a request does: one insert, no network, whatever SMTP's state.
  const started = performance.now();
  await enqueue();
  expect(performance.now() - started).toBeLessThan(50);
  expect(await worker.runOnce()).toBe(0);
  expect(await rows()).toMatchObject([{ attempts: 1, lastError: expect.stringMatching(/^E[A-Z]+/) }]);

  const smtp = await smtpServer(port);
  clock.advance(5);
  expect(await worker.runOnce()).toBe(1);
  clock.advance(3600);
  expect(await worker.runOnce()).toBe(0);
  expect(smtp.received).toHaveLength(1);
  expect(await rows()).toEqual([]);
});

test('an SMTP server that accepts the connection but never greets is given up on after the timeout', async () => {
  // The URL's query overrides the transport's 10-second default (as in SMTP_URL).
  const url = await rawServer(() => {});
  const { worker, enqueue, rows } = await setup(`${url}?greetingTimeout=200`);
  await enqueue();

  const started = performance.now();
  expect(await worker.runOnce()).toBe(0);
  expect(performance.now() - started).toBeLessThan(5000);
  expect(await rows()).toMatchObject([{ attempts: 1, lastError: 'ETIMEDOUT' }]);
});

test.each([
  ['answers garbage', (socket: Socket) => socket.end('\u0000\u00ff garbage that is not SMTP\r\n'.repeat(100))],
  ['hangs up at once', (socket: Socket) => socket.destroy()],
  [
    'hangs up mid-conversation',
    (socket: Socket) => {
      socket.write('220 hello\r\n');
      socket.once('data', () => socket.destroy());
    },
  ],
  [
    'refuses every recipient',
    (socket: Socket) => {
      socket.write('220 hello\r\n');
      socket.on('data', (line) => socket.write(/^(EHLO|HELO|MAIL)/.test(String(line)) ? '250 ok\r\n' : '550 no\r\n'));
    },
  ],
])('an SMTP server that %s costs an attempt, not the process', async (_, behave) => {
  const { worker, enqueue, rows } = await setup(await rawServer(behave));
  await enqueue();
  expect(await worker.runOnce()).toBe(0);
  const [row] = await rows();
  expect(row).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^E[A-Z]+( \d{3})?$/) });
});
