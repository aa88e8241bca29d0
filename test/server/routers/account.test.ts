// The signed-in user's account over real HTTP: changing the e-mail (confirmed from the new
// address, noticed at the old one, revealing nothing about addresses that have accounts)
// and deleting the account (every session ends at once, the audit trail stays without
// personal data, a goodbye mail goes out). Also: no token ever lands in the audit log,
// the logs or the database.
import { randomBytes } from 'node:crypto';
import { Table, eq, getTableName, is } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { sqliteConnection } from '../../../db/sqlite.ts';
import { INVALID_LINK } from '../../../server/auth/account-lifecycle.ts';
import { ACCESS_COOKIE } from '../../../server/auth/cookies.ts';
import type { AuditEventType } from '../../../server/auth/audit-log.ts';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import type { Logger } from '../../../server/logger.ts';
import { templates } from '../../../server/mail/templates.ts';
import { type CallResult, createClient, randomIp } from '../../helpers/client.ts';
import { type ReceivedMail, mailsTo, nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { createClock, startServer, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';
import { sameKeyVars } from '../../helpers/config.ts';
import { comparableHeaders } from '../../helpers/outcome.ts';

const start = startServersPerTest();
type Server = Awaited<ReturnType<typeof start>>;

const newAddress = () => `addr-${randomBytes(6).toString('hex')}@example.com`;
const clientOf = (server: Server, clock?: { now: () => Date }, ip?: string) =>
  createClient(server.url, server.config.appOrigin, clock, ip);
const comparable = (h: Headers) => comparableHeaders(h);
const signIn = (server: Server, email: string, password = PASSWORD) =>
  clientOf(server).mutate('auth.login', { email, password });
const eventsOf = (server: Server, type?: AuditEventType) => {
  const { auditEvents } = server.db.tables;
  return server.db
    .select()
    .from(auditEvents)
    .where(type ? eq(auditEvents.type, type) : undefined)
    .orderBy(auditEvents.id);
};
const usersWhere = (server: Server, by: { id: string } | { email: string }) => {
  const { users } = server.db.tables;
  return server.db
    .select()
    .from(users)
    .where('id' in by ? eq(users.id, by.id) : eq(users.email, by.email));
};

const KIND_BY_SUBJECT = new Map(
  Object.entries(templates).map(([kind, render]) => [
    render({ link: 'x', newEmail: 'x', signInUrl: 'x', resetUrl: 'x', signUpUrl: 'x' } as never, { validFor: '1 hour' })
      .subject,
    kind,
  ]),
);
const kinds = (mails: ReceivedMail[]) => mails.map((mail) => KIND_BY_SUBJECT.get(mail.subject));

function expectInvalidLink(res: CallResult) {
  expect(res.status).toBe(400);
  expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  expect(res.body.error?.message).toBe(INVALID_LINK);
}

/** A signed-in user asks to move to `newEmail`; returns the token mailed there. */
async function changeLink(server: Server, client: ReturnType<typeof clientOf>, newEmail: string) {
  expect((await client.mutate('account.changeEmail', { newEmail })).status).toBe(200);
  const mail = await nextMailTo(server, newEmail);
  expect(mail.link).toMatch(new RegExp(`^${server.config.appOrigin}/confirm-email#token=[\\w-]{43}$`));
  return tokenFromLink(mail.link);
}

const confirm = (server: Server, token: string) =>
  clientOf(server).mutate<{ email: string }>('account.confirmEmailChange', { token });

// ---------------------------------------------------------------- e-mail change

test('changing the e-mail needs a recent password proof', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const { client, email } = await createUser(server, { clock });
  clock.advance(server.config.reauthWindow + 1);
  const newEmail = newAddress();
  const res = await client.mutate('account.changeEmail', { newEmail });
  expect(res.status).toBe(401);
  expect(res.body.error?.data.authError).toBe('reauth_required');
  expect(await mailsTo(server, newEmail)).toEqual([]);
  expect(await mailsTo(server, email)).toEqual([]);
});

test('a change sends a confirmation link to the new address and a notice to the old one, and changes nothing yet', async () => {
  const server = await start();
  const { client, email, user } = await createUser(server);
  const newEmail = newAddress();
  const res = await client.mutate('account.changeEmail', { newEmail });
  expect(res.status).toBe(200);
  expect(res.body.result?.data).toEqual({ ok: true });
  expect(kinds(await mailsTo(server, newEmail))).toEqual(['email_change']);
  const notices = await mailsTo(server, email);
  expect(kinds(notices)).toEqual(['email_change_notice']);
  expect(notices[0]!.text).toContain(newEmail);
  expect(notices[0]!.text).not.toMatch(/token=/);
  // Until confirmed, the account keeps its address.
  expect((await client.query('user.me')).body.result?.data).toEqual(user);
  expect((await signIn(server, newEmail)).status).toBe(401);
  expect((await signIn(server, email)).status).toBe(200);
});

test('confirming switches the address: user.me shows it, the new address signs in and the old one does not', async () => {
  const server = await start();
  const { client, email, user } = await createUser(server);
  const newEmail = newAddress();
  const token = await changeLink(server, client, newEmail);
  const res = await confirm(server, token); // public: the link may be opened in another browser
  expect(res.status).toBe(200);
  expect(res.body.result?.data).toEqual({ email: newEmail });
  expect((await client.query('user.me')).body.result?.data).toEqual({ ...user, email: newEmail });
  expect((await signIn(server, newEmail)).status).toBe(200);
  expect((await signIn(server, email)).status).toBe(401);
  expect(await eventsOf(server, 'email_changed')).toMatchObject([{ outcome: 'success', userId: user.id }]);
});

test('once the change is confirmed, the old address is told', async () => {
  const server = await start();
  const { client, email } = await createUser(server);
  const token = await changeLink(server, client, newAddress());
  expect((await confirm(server, token)).status).toBe(200);
  expect(kinds(await mailsTo(server, email))).toEqual(['email_change_notice', 'email_changed']);
});

test('asking for an address that has an account gets the same answer, sends it nothing and changes nothing', async () => {
  const server = await start();
  const { email: taken, user: owner } = await createUser(server);
  const asker = await createUser(server);
  const other = await createUser(server);
  const forTaken = await asker.client.mutate('account.changeEmail', { newEmail: taken });
  const forFree = await other.client.mutate('account.changeEmail', { newEmail: newAddress() });
  expect(forTaken.status).toBe(200);
  expect(forTaken.body).toEqual(forFree.body);
  expect(comparable(forTaken.headers)).toEqual(comparable(forFree.headers));
  expect(await mailsTo(server, taken)).toEqual([]);
  // A token is issued either way (it ends earlier links alike), but this one is never mailed.
  expect((await usersWhere(server, { id: owner.id }))[0]?.email).toBe(taken);
  expect((await usersWhere(server, { id: asker.user.id }))[0]?.email).toBe(asker.email);
});

test('the asker’s own mailbox does not tell an address that has an account from a free one', async () => {
  const server = await start();
  const { email: taken } = await createUser(server);
  const asker = await createUser(server);
  await asker.client.mutate('account.changeEmail', { newEmail: taken });
  const afterTaken = kinds(await mailsTo(server, asker.email));
  await asker.client.mutate('account.changeEmail', { newEmail: newAddress() });
  const afterFree = kinds(await mailsTo(server, asker.email)).slice(afterTaken.length);
  expect(afterTaken).toEqual(afterFree);
});

test('asking for your own address is refused', async () => {
  const server = await start();
  const { client, email } = await createUser(server);
  const res = await client.mutate('account.changeEmail', { newEmail: email.toUpperCase() });
  expect(res.status).toBe(400);
  expect(res.body.error?.message).toBe('That is already your address');
  expect(await mailsTo(server, email)).toEqual([]);
});

test('a confirmation link for an address that got an account meanwhile is refused, and the address stays its owner’s', async () => {
  const server = await start();
  const { client, email, user } = await createUser(server);
  const contested = newAddress();
  const token = await changeLink(server, client, contested);
  // Meanwhile someone signs up with that address.
  await clientOf(server).mutate('auth.register', { email: contested });
  const signUpToken = tokenFromLink((await nextMailTo(server, contested)).link);
  const signedUp = await clientOf(server).mutate<{ user: { id: string } }>('auth.completeRegistration', {
    token: signUpToken,
    password: 'the rightful owner’s password',
  });
  expect(signedUp.status).toBe(200);

  expectInvalidLink(await confirm(server, token));
  expect((await client.query('user.me')).body.result?.data).toEqual(user);
  expect((await usersWhere(server, { email: contested }))[0]?.id).toBe(signedUp.body.result?.data.user.id);
  expect((await signIn(server, email)).status).toBe(200);
});

test('a confirmation link works once', async () => {
  const server = await start();
  const { client } = await createUser(server);
  const token = await changeLink(server, client, newAddress());
  expect((await confirm(server, token)).status).toBe(200);
  expectInvalidLink(await confirm(server, token));
  expect((await eventsOf(server, 'email_token_refused')).map((e) => e.detail)).toEqual(['email_change: used']);
});

test('a confirmation link expires after EMAIL_CHANGE_TOKEN_TTL', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const ttl = server.config.emailTokenTtl.email_change;
  const early = await createUser(server, { clock });
  const late = await createUser(server, { clock });
  const [earlyEmail, lateEmail] = [newAddress(), newAddress()];
  const earlyToken = await changeLink(server, early.client, earlyEmail);
  const lateToken = await changeLink(server, late.client, lateEmail);
  clock.advance(ttl - 1);
  expect((await confirm(server, earlyToken)).status).toBe(200);
  clock.advance(2);
  expectInvalidLink(await confirm(server, lateToken));
  expect((await usersWhere(server, { id: late.user.id }))[0]?.email).toBe(late.email);
  expect((await eventsOf(server, 'email_token_refused')).map((e) => e.detail)).toEqual(['email_change: expired']);
});

test('a newer change request supersedes the older link', async () => {
  const server = await start();
  const { client, user } = await createUser(server);
  const [first, second] = [newAddress(), newAddress()];
  const older = await changeLink(server, client, first);
  const newer = await changeLink(server, client, second);
  expectInvalidLink(await confirm(server, older));
  expect((await confirm(server, newer)).body.result?.data).toEqual({ email: second });
  expect((await usersWhere(server, { id: user.id }))[0]?.email).toBe(second);
});

test('a confirmation link is good for an e-mail change only', async () => {
  const server = await start();
  const { client, email } = await createUser(server);
  const token = await changeLink(server, client, newAddress());
  expectInvalidLink(await clientOf(server).mutate('auth.resetPassword', { token, newPassword: 'a new passphrase' }));
  expectInvalidLink(
    await clientOf(server).mutate('auth.completeRegistration', { token, password: 'a new passphrase' }),
  );
  expect((await signIn(server, email)).status).toBe(200);
  expect((await confirm(server, token)).status).toBe(200);
});

test(`past ${RATE_LIMITS.mailPerAddress.points} mails per window to one new address the answer is identical but nothing more is sent`, async () => {
  const server = await start();
  const newEmail = newAddress();
  const answers: CallResult[] = [];
  for (let i = 0; i < RATE_LIMITS.mailPerAddress.points + 2; i++) {
    const { client } = await createUser(server); // many accounts asking for one address
    answers.push(await client.mutate('account.changeEmail', { newEmail }));
  }
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(answers[0]!.body);
    expect(comparable(answer.headers)).toEqual(comparable(answers[0]!.headers));
  }
  expect(await mailsTo(server, newEmail)).toHaveLength(RATE_LIMITS.mailPerAddress.points);
});

test('e-mail change requests count against the per-client-address mail limit', async () => {
  const server = await start();
  const ip = randomIp();
  const { email } = await createUser(server);
  const device = clientOf(server, undefined, ip);
  expect((await device.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  for (let i = 0; i < RATE_LIMITS.mailPerIp.points; i++) {
    expect((await device.mutate('account.changeEmail', { newEmail: newAddress() })).status).toBe(200);
  }
  const blocked = await device.mutate('account.changeEmail', { newEmail: newAddress() });
  expect(blocked.status).toBe(429);
  expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
});

// ---------------------------------------------------------------- deletion

test('deleting the account needs a recent password proof', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const { client, user } = await createUser(server, { clock });
  clock.advance(server.config.reauthWindow + 1);
  const res = await client.mutate('account.delete');
  expect(res.status).toBe(401);
  expect(res.body.error?.data.authError).toBe('reauth_required');
  expect((await usersWhere(server, { id: user.id }))[0]).toBeDefined();
});

test('deleting removes the user and ends every session at once, refresh tokens included', async () => {
  const server = await start();
  const { client: laptop, email, user } = await createUser(server);
  const phone = clientOf(server);
  expect((await phone.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  const laptopToken = laptop.cookie(ACCESS_COOKIE)!;
  const bystander = await createUser(server);

  const res = await laptop.mutate('account.delete');
  expect(res.status).toBe(200);
  expect(res.body.result?.data).toEqual({ ok: true });
  // The deleting browser's cookies are cleared, and its token is dead even if replayed.
  expect(res.setCookies.filter((c) => c.maxAge === 0).map((c) => c.name)).toContain(ACCESS_COOKIE);
  const replay = clientOf(server);
  replay.setCookie(ACCESS_COOKIE, laptopToken);
  expect((await replay.query('user.me')).status).toBe(401);

  const onPhone = await phone.query('user.me');
  expect(onPhone.status).toBe(401);
  expect(onPhone.body.error?.data.authError).toBe('revoked_session');
  expect((await phone.mutate('auth.refresh')).status).toBe(401);

  expect(await usersWhere(server, { id: user.id })).toEqual([]);
  const { sessions } = server.db.tables;
  expect(await server.db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
  // Nobody else is affected.
  expect((await bystander.client.query('user.me')).status).toBe(200);
});

test('a deleted account’s sessions stay dead after a restart', async () => {
  const first = await start();
  const { client: laptop, email } = await createUser(first);
  const phone = clientOf(first);
  await phone.mutate('auth.login', { email, password: PASSWORD });
  const phoneToken = phone.cookie(ACCESS_COOKIE)!;
  expect((await laptop.mutate('account.delete')).status).toBe(200);
  await first.close({ closeDatabase: false });
  const second = await startServer({ db: first.db, vars: sameKeyVars(first.config) });
  try {
    const thief = createClient(second.url, second.config.appOrigin);
    thief.setCookie(ACCESS_COOKIE, phoneToken);
    expect((await thief.query('user.me')).status).toBe(401);
  } finally {
    await second.close({ closeDatabase: false });
  }
});

test('deleting sends a goodbye mail to the address and kills the links the user had', async () => {
  const server = await start();
  const { client, email } = await createUser(server);
  await clientOf(server).mutate('auth.requestPasswordReset', { email });
  const resetToken = tokenFromLink((await nextMailTo(server, email)).link);
  expect((await client.mutate('account.delete')).status).toBe(200);
  expect(kinds(await mailsTo(server, email))).toEqual(['password_reset', 'account_deleted']);
  expect(await server.db.select().from(server.db.tables.outbox)).toEqual([]);
  expectInvalidLink(
    await clientOf(server).mutate('auth.resetPassword', { token: resetToken, newPassword: 'a new passphrase' }),
  );
  expect(await server.db.select().from(server.db.tables.emailTokens)).toEqual([]);
});

test('after deletion the account cannot sign in, and the address can sign up again as a new account', async () => {
  const server = await start();
  const { client, email, user } = await createUser(server);
  expect((await client.mutate('account.delete')).status).toBe(200);
  const login = await signIn(server, email);
  expect(login.status).toBe(401);
  expect(login.body.error?.message).toBe('Invalid e-mail or password');

  expect((await clientOf(server).mutate('auth.register', { email })).status).toBe(200);
  const mail = await nextMailTo(server, email);
  expect(kinds([mail])).toEqual(['sign_up']);
  const again = await clientOf(server).mutate<{ user: { id: string } }>('auth.completeRegistration', {
    token: tokenFromLink(mail.link),
    password: 'a second life passphrase',
  });
  expect(again.status).toBe(200);
  expect(again.body.result?.data.user.id).not.toBe(user.id);
  expect((await signIn(server, email, 'a second life passphrase')).status).toBe(200);
});

test('the audit trail is kept without the user’s id, IP addresses, user agents or details, and the deletion is recorded', async () => {
  const server = await start();
  const { client, email, user } = await createUser(server);
  await client.mutate('auth.changePassword', { currentPassword: 'wrong guess', newPassword: 'a new passphrase' });
  await client.mutate('account.changeEmail', { newEmail: newAddress() });
  await mailsTo(server, email);
  const before = (await eventsOf(server)).filter((e) => e.userId === user.id);
  expect(before.length).toBeGreaterThanOrEqual(4);
  expect(before.some((e) => e.ip && e.userAgent && e.detail)).toBe(true);

  expect((await client.mutate('account.delete')).status).toBe(200);
  await mailsTo(server, email); // the goodbye mail's mail_sent event too
  const after = await eventsOf(server);
  for (const kept of before) {
    expect(after.find((e) => e.id === kept.id)).toMatchObject({
      type: kept.type,
      outcome: kept.outcome,
      userId: null,
      ip: null,
      userAgent: null,
      detail: null,
    });
  }
  expect(after.filter((e) => e.type === 'account_deleted')).toMatchObject([{ outcome: 'success', userId: null }]);
});

test('after deletion no audit event names the deleted user’s id', async () => {
  const server = await start();
  const { client, user } = await createUser(server);
  expect((await client.mutate('account.delete')).status).toBe(200);
  expect(JSON.stringify(await eventsOf(server))).not.toContain(user.id);
});

test('after deletion no audit event names the deleted address', async () => {
  const server = await start();
  const { client, email } = await createUser(server);
  await signIn(server, email, 'a wrong password'); // a failed sign-in records the address tried
  expect((await client.mutate('account.delete')).status).toBe(200);
  expect(JSON.stringify(await eventsOf(server))).not.toContain(email);
});

// ---------------------------------------------------------------- no token anywhere

test('no link token is ever written to the audit log, the logs or the database', async () => {
  const lines: string[] = [];
  const record = (message: string, details?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(details ?? {})}`);
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  const server = await start({ logger });
  const tokens: string[] = [];
  const take = async (email: string) => {
    const token = tokenFromLink((await nextMailTo(server, email)).link);
    tokens.push(token);
    return token;
  };
  const anyone = () => clientOf(server);

  // Sign-up: used, used again, used for the wrong purpose.
  const newcomer = newAddress();
  await anyone().mutate('auth.register', { email: newcomer });
  const signUp = await take(newcomer);
  await anyone().mutate('auth.resetPassword', { token: signUp, newPassword: 'a newcomer passphrase' });
  expect(
    (await anyone().mutate('auth.completeRegistration', { token: signUp, password: 'a newcomer passphrase' })).status,
  ).toBe(200);
  await anyone().mutate('auth.completeRegistration', { token: signUp, password: 'a newcomer passphrase' });
  // Reset: superseded, then used, then replayed.
  const { email, client } = await createUser(server);
  await anyone().mutate('auth.requestPasswordReset', { email });
  const superseded = await take(email);
  await anyone().mutate('auth.requestPasswordReset', { email });
  const reset = await take(email);
  await anyone().mutate('auth.resetPassword', { token: superseded, newPassword: 'a reset passphrase' });
  expect((await client.mutate('auth.resetPassword', { token: reset, newPassword: 'a reset passphrase' })).status).toBe(
    200,
  );
  await anyone().mutate('auth.resetPassword', { token: reset, newPassword: 'a reset passphrase' });
  // E-mail change: confirmed, then replayed.
  const newEmail = newAddress();
  expect((await client.mutate('account.changeEmail', { newEmail })).status).toBe(200);
  const change = await take(newEmail);
  expect((await confirm(server, change)).status).toBe(200);
  await confirm(server, change);
  await mailsTo(server, newEmail); // every mail sent: the outbox is empty

  expect(tokens).toHaveLength(4);
  const events = await eventsOf(server);
  expect(events.filter((e) => e.type === 'email_token_refused')).toHaveLength(5);
  // Every row of every table, read through drizzle so the dump is the same on both engines.
  // (On SQLite db.tables is the whole schema module: its constants are skipped.)
  const tables = Object.values(server.db.tables).filter((value) => is(value, Table));
  const database: string[] = [];
  for (const table of tables) {
    database.push(JSON.stringify(await server.db.select().from(table as typeof server.db.tables.users)));
  }
  if (server.db.engine === 'sqlite') {
    // db.tables is every table the app has (only SQLite's and drizzle's own bookkeeping are not in it).
    const statement = sqliteConnection(server.db).prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '__drizzle_migrations'",
    );
    // eslint-disable-next-line no-restricted-syntax -- better-sqlite3's own statement, on SQLite only
    const names = statement.pluck().all() as string[];
    expect(names.sort()).toEqual(tables.map((t) => getTableName(t)).sort());
  }
  expect(database.join('')).toContain(email); // the dump is real
  for (const token of tokens) {
    expect(JSON.stringify(events)).not.toContain(token);
    expect(lines.join('\n')).not.toContain(token);
    expect(database.join('\n')).not.toContain(token);
  }
});

test('an earlier e-mail-change link cannot tell whether a later requested address was taken', async () => {
  const server = await start();
  const { client } = await createUser(server);
  const taken = (await createUser(server)).email;
  // The attacker keeps a link for an address of their own, then asks for the target address:
  // if the old link still worked only when the target was taken, it would be an oracle.
  const probe = async (target: string) => {
    const mine = await changeLink(server, client, newAddress());
    expect((await client.mutate('account.changeEmail', { newEmail: target })).status).toBe(200);
    return (await confirm(server, mine)).status;
  };
  expect(await probe(taken)).toBe(400);
  expect(await probe(newAddress())).toBe(400);
});
