// The development mailbox: the transport keeps each mail in dev_mailbox and logs its
// links; dev.mailbox lists them in development and, anywhere else, answers exactly like a
// procedure that does not exist.
import type { AddressInfo } from 'node:net';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { afterEach, expect, test } from 'vitest';
import { createContextFactory, createInnerContext, createServices } from '../../../server/context.ts';
import type { Logger } from '../../../server/logger.ts';
import { createAuditLog } from '../../../server/auth/audit-log.ts';
import { enqueueMail } from '../../../server/mail/outbox.ts';
import { createMailTransport } from '../../../server/mail/transports.ts';
import { createMailWorker } from '../../../server/mail/worker.ts';
import { devRouter } from '../../../server/routers/dev.ts';
import { createCallerFactory, router } from '../../../server/trpc.ts';
import { testConfig } from '../../helpers/config.ts';
import { openTestDatabase } from '../../helpers/database.ts';

const LINK = 'http://localhost:5173/reset-password#token=abc';

/** Cheap hashing is refused outside NODE_ENV=test; these are the minimums. */
const development = { NODE_ENV: 'development', ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' };
const production = {
  ...development,
  NODE_ENV: 'production',
  APP_ORIGIN: 'https://app.example',
  SMTP_URL: 'smtp://127.0.0.1:25',
  MAIL_FROM: 'App <no-reply@app.example>',
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function servicesFor(vars: Record<string, string>) {
  const db = await openTestDatabase();
  cleanups.push(() => db.close());
  const lines: string[] = [];
  const record = (message: string) => lines.push(message);
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  return { services: await createServices({ db, config: testConfig(vars), logger, now: () => new Date() }), lines };
}

const callerFor = createCallerFactory(router({ dev: devRouter }));

test('in development a mail goes to dev_mailbox and the console shows its recipient, subject and link', async () => {
  const { services, lines } = await servicesFor(development);
  const { db, config, logger } = services;
  expect(config.mail.transport).toBe('dev-mailbox');
  const transport = createMailTransport(config.mail, { db, logger });
  const worker = createMailWorker({ db, transport, logger, auditLog: createAuditLog(db), now: () => new Date() });
  await enqueueMail(db, { kind: 'password_reset', data: { link: LINK }, to: 'ada@example.com' }, { now: new Date() });

  expect(await worker.runOnce()).toBe(1);
  expect(lines).toContainEqual(`Dev mailbox: to ada@example.com "tRPC JWT starter: Reset your password" ${LINK}`);
  const [mail] = await callerFor(createInnerContext(services)).dev.mailbox();
  expect(mail).toMatchObject({ to: 'ada@example.com', subject: 'tRPC JWT starter: Reset your password' });
  expect(mail!.text).toContain(LINK);
  expect(mail!.html).toContain(`href="${LINK}"`);
  expect(mail!.sentAt).toBeInstanceOf(Date);
});

test('dev.mailbox lists the 50 newest mails, newest first', async () => {
  const { services } = await servicesFor(development);
  const transport = createMailTransport(services.config.mail, services);
  for (let i = 0; i < 55; i++) {
    await transport.send({ to: `user-${i}@example.com`, subject: `mail ${i}`, text: 'hello', html: '<p>hello</p>' });
  }
  const mails = await callerFor(createInnerContext(services)).dev.mailbox();
  expect(mails).toHaveLength(50);
  expect(mails[0]!.subject).toBe('mail 54');
  expect(mails.at(-1)!.subject).toBe('mail 5');
});

test.each([
  ['test', {}],
  ['production', production],
  // A deployment that forgot NODE_ENV: development by default, but listening beyond loopback
  // or sending by SMTP. Its live links must not be published.
  ['development but HOST=0.0.0.0', { ...development, HOST: '0.0.0.0' }],
  ['development but SMTP', { ...development, SMTP_URL: production.SMTP_URL, MAIL_FROM: production.MAIL_FROM }],
])('with NODE_ENV=%s dev.mailbox answers exactly like a procedure that does not exist', async (_, vars) => {
  const { services } = await servicesFor(vars);
  await createMailTransport({ transport: 'dev-mailbox', smtpUrl: undefined, from: 'x' }, services).send({
    to: 'ada@example.com',
    subject: 'secret link',
    text: LINK,
    html: '',
  });
  // The real error formatter and HTTP adapter, with only the dev router mounted.
  const server = createHTTPServer({
    router: router({ dev: devRouter }),
    createContext: createContextFactory(services),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ask = async (path: string) => {
      const res = await fetch(`${base}/${path}`);
      return { status: res.status, body: (await res.text()).replaceAll(path, 'PATH') };
    };
    const mailbox = await ask('dev.mailbox');
    expect(mailbox.status).toBe(404);
    expect(mailbox).toEqual(await ask('dev.nothingHere'));
    expect(mailbox.body).not.toContain('ada@example.com');
  } finally {
    server.close();
  }
});
