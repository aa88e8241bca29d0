// Password reset over real HTTP: the request says nothing about the address, the link
// (single use, short lived, superseded, ended by a password or address change) decides
// whose password changes, and a reset ends every session of that user at once.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { INVALID_LINK } from '../../../server/auth/account-lifecycle.ts';
import type { AuditEventType } from '../../../server/auth/audit-log.ts';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../../../server/auth/cookies.ts';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { type CallResult, type TestClient, createClient } from '../../helpers/client.ts';
import { mailsTo, nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';
import { expectAddressesTimedAlike } from '../../helpers/timing.ts';
import { comparableHeaders } from '../../helpers/outcome.ts';

const start = startServersPerTest();
type Server = Awaited<ReturnType<typeof start>>;

const NEW_PASSWORD = 'a brand new reset passphrase';
const newAddress = () => `nobody-${randomBytes(6).toString('hex')}@example.com`;
const clientOf = (server: Server, clock?: { now: () => Date }) =>
  createClient(server.url, server.config.appOrigin, clock);
const comparable = (h: Headers) => comparableHeaders(h);
const eventsOf = (server: Server, type: AuditEventType) => {
  const { auditEvents } = server.db.tables;
  return server.db.select().from(auditEvents).where(eq(auditEvents.type, type)).orderBy(auditEvents.id);
};

/** Asks for a reset link for `email` from a fresh device and returns the token mailed to it. */
async function resetLink(server: Server, email: string) {
  expect((await clientOf(server).mutate('auth.requestPasswordReset', { email })).status).toBe(200);
  const mail = await nextMailTo(server, email);
  expect(mail.link).toMatch(new RegExp(`^${server.config.appOrigin}/reset-password#token=[\\w-]{43}$`));
  return tokenFromLink(mail.link);
}

const signIn = (server: Server, email: string, password: string) =>
  clientOf(server).mutate('auth.login', { email, password });

function expectInvalidLink(res: CallResult) {
  expect(res.status).toBe(400);
  expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  expect(res.body.error?.message).toBe(INVALID_LINK);
  expect(res.setCookies).toEqual([]);
}

function expectRevoked(res: CallResult) {
  expect(res.status).toBe(401);
  expect(res.body.error?.data.authError).toBe('revoked_session');
}

test('requestPasswordReset answers a known and an unknown address identically, and sets no cookie', async () => {
  const server = await start();
  const { email } = await createUser(server);
  const known = await clientOf(server).mutate('auth.requestPasswordReset', { email });
  const unknown = await clientOf(server).mutate('auth.requestPasswordReset', { email: newAddress() });
  expect(known.status).toBe(200);
  expect(known.body).toEqual({ result: { data: { ok: true } } });
  expect(unknown.status).toBe(known.status);
  expect(unknown.body).toEqual(known.body);
  expect(comparable(unknown.headers)).toEqual(comparable(known.headers));
  expect(known.setCookies).toEqual([]);
  expect(unknown.setCookies).toEqual([]);
});

test('a reset link goes to an address that has an account, and a notice without a link to one that has none', async () => {
  const server = await start();
  const { email } = await createUser(server);
  const stranger = newAddress();
  await clientOf(server).mutate('auth.requestPasswordReset', { email });
  await clientOf(server).mutate('auth.requestPasswordReset', { email: stranger });
  const mails = await mailsTo(server, email);
  expect(mails).toHaveLength(1);
  expect(mails[0]!.subject).toMatch(/Reset your password/);
  expect(mails[0]!.link).toMatch(/\/reset-password#token=[\w-]{43}$/);
  // The same work for an unknown address: a mail, but one that can reset nothing.
  const [notice, ...more] = await mailsTo(server, stranger);
  expect(more).toEqual([]);
  expect(notice!.subject).toMatch(/Password reset requested/);
  expect(notice!.text).not.toMatch(/token=/);
  const { emailTokens } = server.db.tables;
  expect(await server.db.select().from(emailTokens).where(eq(emailTokens.email, stranger))).toEqual([]);
});

test('a reset sets the password, signs in on a fresh session and is audited', async () => {
  const server = await start();
  const { email, user } = await createUser(server);
  const token = await resetLink(server, email);
  const browser = clientOf(server);
  const res = await browser.mutate<{ user: { id: string } }>('auth.resetPassword', {
    token,
    newPassword: NEW_PASSWORD,
  });
  expect(res.status).toBe(200);
  expect(res.body.result?.data.user).toEqual({ id: user.id, email, role: 'user' });
  expect(browser.cookie(ACCESS_COOKIE)).toBeDefined();
  expect(browser.cookie(REFRESH_COOKIE)).toBeDefined();
  expect((await browser.query('user.me')).body.result?.data).toEqual(user);

  expect((await signIn(server, email, PASSWORD)).status).toBe(401);
  expect((await signIn(server, email, NEW_PASSWORD)).status).toBe(200);
  const [event] = await eventsOf(server, 'password_reset');
  expect(event).toMatchObject({ outcome: 'success', userId: user.id, detail: '1 session(s) ended' });
  expect(event?.sessionId).toBeTruthy();
});

test('a reset ends every session of the user at once: other devices and their refresh tokens are refused', async () => {
  const server = await start();
  const { email, client: laptop } = await createUser(server);
  const phone = clientOf(server);
  expect((await phone.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  const thief = clientOf(server); // signed in with the password the owner is replacing
  expect((await thief.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  for (const device of [laptop, phone, thief]) expect((await device.query('user.me')).status).toBe(200);

  const token = await resetLink(server, email);
  const browser = clientOf(server);
  expect((await browser.mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD })).status).toBe(200);

  for (const device of [laptop, phone, thief]) {
    expectRevoked(await device.query('user.me'));
    expectRevoked(await device.mutate('auth.refresh'));
  }
  expect((await browser.query('user.me')).status).toBe(200);
  const sessions = await browser.query<{ current: boolean }[]>('session.list');
  expect(sessions.body.result?.data.map((s) => s.current)).toEqual([true]);
  expect((await eventsOf(server, 'session_revoked')).map((e) => e.detail)).toEqual(Array(3).fill('password_changed'));
});

test('a reset link works once', async () => {
  const server = await start();
  const { email } = await createUser(server);
  const token = await resetLink(server, email);
  expect((await clientOf(server).mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD })).status).toBe(200);
  const again = await clientOf(server).mutate('auth.resetPassword', { token, newPassword: 'yet another passphrase' });
  expectInvalidLink(again);
  expect((await signIn(server, email, NEW_PASSWORD)).status).toBe(200);
  expect((await eventsOf(server, 'email_token_refused')).map((e) => e.detail)).toEqual(['password_reset: used']);
});

test('a reset link expires after PASSWORD_RESET_TOKEN_TTL', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const ttl = server.config.emailTokenTtl.password_reset;
  const first = await createUser(server, { clock });
  const second = await createUser(server, { clock });
  const firstToken = await resetLink(server, first.email);
  const secondToken = await resetLink(server, second.email);
  const reset = (token: string) =>
    clientOf(server, clock).mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD });
  clock.advance(ttl - 1);
  expect((await reset(firstToken)).status).toBe(200);
  clock.advance(2);
  expectInvalidLink(await reset(secondToken));
  expect((await signIn(server, second.email, PASSWORD)).status).toBe(200);
  expect((await eventsOf(server, 'email_token_refused')).map((e) => e.detail)).toEqual(['password_reset: expired']);
});

test('a newer reset link supersedes the older one', async () => {
  const server = await start();
  const { email } = await createUser(server);
  const older = await resetLink(server, email);
  const newer = await resetLink(server, email);
  expectInvalidLink(await clientOf(server).mutate('auth.resetPassword', { token: older, newPassword: NEW_PASSWORD }));
  expect((await signIn(server, email, PASSWORD)).status).toBe(200);
  expect(
    (await clientOf(server).mutate('auth.resetPassword', { token: newer, newPassword: NEW_PASSWORD })).status,
  ).toBe(200);
});

test('a password change kills an outstanding reset link', async () => {
  const server = await start();
  const { email, client } = await createUser(server);
  const token = await resetLink(server, email);
  const change = await client.mutate('auth.changePassword', {
    currentPassword: PASSWORD,
    newPassword: 'the owner chose this one',
  });
  expect(change.status).toBe(200);
  expectInvalidLink(await clientOf(server).mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD }));
  expect((await signIn(server, email, 'the owner chose this one')).status).toBe(200);
});

test('an e-mail change kills an outstanding reset link sent to the old address', async () => {
  const server = await start();
  const { email, client } = await createUser(server);
  const token = await resetLink(server, email);
  const newEmail = newAddress();
  expect((await client.mutate('account.changeEmail', { newEmail })).status).toBe(200);
  const confirm = tokenFromLink((await nextMailTo(server, newEmail)).link);
  expect((await clientOf(server).mutate('account.confirmEmailChange', { token: confirm })).status).toBe(200);
  expectInvalidLink(await clientOf(server).mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD }));
  expect((await signIn(server, newEmail, PASSWORD)).status).toBe(200);
});

test('a reset ends the user’s other links too: a pending e-mail change no longer confirms', async () => {
  const server = await start();
  const { email, client } = await createUser(server);
  const newEmail = newAddress();
  expect((await client.mutate('account.changeEmail', { newEmail })).status).toBe(200);
  const confirm = tokenFromLink((await nextMailTo(server, newEmail)).link);
  const token = await resetLink(server, email);
  expect((await clientOf(server).mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD })).status).toBe(200);
  expectInvalidLink(await clientOf(server).mutate('account.confirmEmailChange', { token: confirm }));
  expect((await signIn(server, email, NEW_PASSWORD)).status).toBe(200);
});

test('the token decides whose password changes: B’s link used from A’s signed-in browser resets B, not A', async () => {
  const server = await start();
  const a = await createUser(server);
  const b = await createUser(server);
  const aElsewhere = clientOf(server);
  await aElsewhere.mutate('auth.login', { email: a.email, password: PASSWORD });
  const token = await resetLink(server, b.email);

  const res = await a.client.mutate<{ user: { id: string } }>('auth.resetPassword', {
    token,
    newPassword: NEW_PASSWORD,
  });
  expect(res.status).toBe(200);
  expect(res.body.result?.data.user.id).toBe(b.user.id);
  // B's password changed; A's did not, and A's other device is still signed in.
  expect((await signIn(server, b.email, PASSWORD)).status).toBe(401);
  expect((await signIn(server, b.email, NEW_PASSWORD)).status).toBe(200);
  expect((await signIn(server, a.email, PASSWORD)).status).toBe(200);
  expect((await signIn(server, a.email, NEW_PASSWORD)).status).toBe(401);
  expect((await aElsewhere.query<{ id: string }>('user.me')).body.result?.data.id).toBe(a.user.id);
  // The browser now holds B's fresh session (its own session for A ended: it signed in again).
  expect((await a.client.query<{ id: string }>('user.me')).body.result?.data.id).toBe(b.user.id);
});

test('requestPasswordReset for a known and an unknown address takes indistinguishable time', async () => {
  await expectAddressesTimedAlike(await start(), 'auth.requestPasswordReset');
});

test(`past ${RATE_LIMITS.mailPerAddress.points} reset mails per window to one address the answer is identical but no more links are sent`, async () => {
  const server = await start();
  const { email } = await createUser(server);
  const answers: CallResult[] = [];
  for (let i = 0; i < RATE_LIMITS.mailPerAddress.points + 2; i++) {
    answers.push(await clientOf(server).mutate('auth.requestPasswordReset', { email }));
  }
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(answers[0]!.body);
    expect(comparable(answer.headers)).toEqual(comparable(answers[0]!.headers));
  }
  const mails = await mailsTo(server, email);
  expect(mails).toHaveLength(RATE_LIMITS.mailPerAddress.points);
  // The suppressed requests superseded nothing: the last link sent still works.
  const token = tokenFromLink(mails.at(-1)!.link);
  expect((await clientOf(server).mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD })).status).toBe(200);
  const suppressed = (await eventsOf(server, 'password_reset_requested')).filter(
    (e) => e.detail === 'address has an account, mail suppressed (limit)',
  );
  expect(suppressed).toHaveLength(2);
});

test('a common or short new password is refused naming the field, and the link still works', async () => {
  const server = await start();
  const { email } = await createUser(server);
  const token = await resetLink(server, email);
  const device: TestClient = clientOf(server);
  for (const [newPassword, message] of [
    ['password1', /one of the most common passwords/],
    ['short', /at least 8/],
  ] as const) {
    const res = await device.mutate('auth.resetPassword', { token, newPassword });
    expect(res.status).toBe(400);
    const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
    expect(zodError.fieldErrors.newPassword?.[0]).toMatch(message);
  }
  expect((await signIn(server, email, PASSWORD)).status).toBe(200);
  expect((await device.mutate('auth.resetPassword', { token, newPassword: NEW_PASSWORD })).status).toBe(200);
});
