// Sign-up over real HTTP, e-mail first: `auth.register` says nothing about the address,
// the link in the mail (single use, short lived, superseded, one purpose) and a password
// make a verified account, and no account exists before. Limits on mail reveal nothing.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { INVALID_LINK } from '../../../server/auth/account-lifecycle.ts';
import type { AuditEventType } from '../../../server/auth/audit-log.ts';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../../../server/auth/cookies.ts';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { templates } from '../../../server/mail/templates.ts';
import { type CallResult, createClient, randomIp } from '../../helpers/client.ts';
import { type ReceivedMail, mailsTo, nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';
import { expectAddressesTimedAlike } from '../../helpers/timing.ts';
import { comparableHeaders } from '../../helpers/outcome.ts';

const start = startServersPerTest();
type Server = Awaited<ReturnType<typeof start>>;

const NEW_PASSWORD = 'a fresh sign-up passphrase';
const newAddress = () => `new-${randomBytes(6).toString('hex')}@example.com`;
const clientOf = (server: Server, clock?: { now: () => Date }, ip?: string) =>
  createClient(server.url, server.config.appOrigin, clock, ip);

/** Which template a mail was rendered from (subjects are fixed per kind). */
const KIND_BY_SUBJECT = new Map(
  Object.entries(templates).map(([kind, render]) => [
    render({ link: 'x', newEmail: 'x', signInUrl: 'x', resetUrl: 'x', signUpUrl: 'x' } as never, { validFor: '1 hour' })
      .subject,
    kind,
  ]),
);
const kindOf = (mail: ReceivedMail) => KIND_BY_SUBJECT.get(mail.subject);

/** Asks for a sign-up link for `email` from a fresh device and returns the token it mails. */
async function signUpLink(server: Server, email: string) {
  expect((await clientOf(server).mutate('auth.register', { email })).status).toBe(200);
  const mail = await nextMailTo(server, email);
  expect(kindOf(mail)).toBe('sign_up');
  return tokenFromLink(mail.link);
}

const userRows = (server: Server, email: string) => {
  const { users } = server.db.tables;
  return server.db.select().from(users).where(eq(users.email, email));
};
const eventsOf = (server: Server, type: AuditEventType) => {
  const { auditEvents } = server.db.tables;
  return server.db.select().from(auditEvents).where(eq(auditEvents.type, type)).orderBy(auditEvents.id);
};
const comparable = (h: Headers) => comparableHeaders(h);

function expectInvalidLink(res: CallResult) {
  expect(res.status).toBe(400);
  expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  expect(res.body.error?.message).toBe(INVALID_LINK);
  expect(res.setCookies).toEqual([]);
}

test('register answers a new address and one that has an account identically, and sets no cookie', async () => {
  const server = await start();
  const { email: taken } = await createUser(server);
  const fresh = await clientOf(server).mutate('auth.register', { email: newAddress() });
  const existing = await clientOf(server).mutate('auth.register', { email: taken });
  expect(fresh.status).toBe(200);
  expect(fresh.body).toEqual({ result: { data: { ok: true } } });
  expect(existing.status).toBe(fresh.status);
  expect(existing.body).toEqual(fresh.body);
  expect(comparable(existing.headers)).toEqual(comparable(fresh.headers));
  expect(fresh.setCookies).toEqual([]);
  expect(existing.setCookies).toEqual([]);
});

test('a new address gets a sign-up link; an address that has an account gets a notice that completes nothing', async () => {
  const server = await start();
  const { email: taken } = await createUser(server);
  const email = newAddress();
  await clientOf(server).mutate('auth.register', { email });
  await clientOf(server).mutate('auth.register', { email: taken });

  const [link] = await mailsTo(server, email);
  expect(kindOf(link!)).toBe('sign_up');
  expect(link!.link).toMatch(new RegExp(`^${server.config.appOrigin}/complete-sign-up#token=[\\w-]{43}$`));

  const notices = await mailsTo(server, taken);
  expect(notices.map(kindOf)).toEqual(['account_exists']);
  expect(notices[0]!.text).not.toMatch(/token=/);
  expect(notices[0]!.html).not.toMatch(/token=/);
  // No link of any purpose exists for the address that has an account.
  const { emailTokens } = server.db.tables;
  expect(await server.db.select().from(emailTokens).where(eq(emailTokens.email, taken))).toEqual([]);
});

test('register normalises the address: any casing of a taken address gets the notice', async () => {
  const server = await start();
  const { email: taken } = await createUser(server);
  await clientOf(server).mutate('auth.register', { email: `  ${taken.toUpperCase()} ` });
  expect((await mailsTo(server, taken)).map(kindOf)).toEqual(['account_exists']);
  const email = newAddress();
  await clientOf(server).mutate('auth.register', { email: ` ${email.toUpperCase()}` });
  const token = tokenFromLink((await nextMailTo(server, email)).link);
  const res = await clientOf(server).mutate<{ user: { email: string } }>('auth.completeRegistration', {
    token,
    password: NEW_PASSWORD,
  });
  expect(res.body.result?.data.user.email).toBe(email);
});

test('no account exists before the link is used, and the address cannot sign in', async () => {
  const server = await start();
  const email = newAddress();
  await signUpLink(server, email);
  expect(await userRows(server, email)).toEqual([]);
  const login = await clientOf(server).mutate('auth.login', { email, password: NEW_PASSWORD });
  const unknown = await clientOf(server).mutate('auth.login', { email: newAddress(), password: NEW_PASSWORD });
  expect(login.status).toBe(401);
  expect(login.body.error?.data.code).toBe('UNAUTHORIZED');
  expect(login.body).toEqual(unknown.body);
});

test('the link and a password make a verified account, signed in, and the sign-up is audited', async () => {
  const server = await start();
  const email = newAddress();
  const token = await signUpLink(server, email);
  const browser = clientOf(server);
  const res = await browser.mutate<{ user: { id: string; email: string; role: string } }>('auth.completeRegistration', {
    token,
    password: NEW_PASSWORD,
  });
  expect(res.status).toBe(200);
  const user = res.body.result!.data.user;
  expect(user).toEqual({ id: expect.stringMatching(/^[\w-]{22}$/), email, role: 'user' });
  expect(browser.cookie(ACCESS_COOKIE)).toBeDefined();
  expect(browser.cookie(REFRESH_COOKIE)).toBeDefined();
  const me = await browser.query('user.me');
  expect(me.status).toBe(200);
  expect(me.body.result?.data).toEqual(user);

  const [row] = await userRows(server, email);
  expect(row?.emailVerifiedAt).toBeInstanceOf(Date);
  expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
  const [event] = await eventsOf(server, 'sign_up');
  expect(event).toMatchObject({ outcome: 'success', userId: user.id });
  expect(event?.sessionId).toBeTruthy();
  // The password works from another device.
  expect((await clientOf(server).mutate('auth.login', { email, password: NEW_PASSWORD })).status).toBe(200);
});

test('a sign-up link works once', async () => {
  const server = await start();
  const email = newAddress();
  const token = await signUpLink(server, email);
  const complete = () => clientOf(server).mutate('auth.completeRegistration', { token, password: NEW_PASSWORD });
  expect((await complete()).status).toBe(200);
  expectInvalidLink(await complete());
  expect(await userRows(server, email)).toHaveLength(1);
  expect((await eventsOf(server, 'email_token_refused')).map((e) => e.detail)).toEqual(['sign_up: used']);
});

test('two devices racing with one link make one account', async () => {
  const server = await start();
  const email = newAddress();
  const token = await signUpLink(server, email);
  const results = await Promise.all(
    [1, 2, 3].map(() => clientOf(server).mutate('auth.completeRegistration', { token, password: NEW_PASSWORD })),
  );
  expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
  expect(await userRows(server, email)).toHaveLength(1);
});

test('a sign-up link expires after SIGN_UP_TOKEN_TTL', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const ttl = server.config.emailTokenTtl.sign_up;
  const [early, late] = [newAddress(), newAddress()];
  const earlyToken = await signUpLink(server, early);
  const lateToken = await signUpLink(server, late);
  clock.advance(ttl - 1);
  const complete = (token: string) =>
    clientOf(server, clock).mutate('auth.completeRegistration', { token, password: NEW_PASSWORD });
  expect((await complete(earlyToken)).status).toBe(200);
  clock.advance(2);
  expectInvalidLink(await complete(lateToken));
  expect(await userRows(server, late)).toEqual([]);
  expect((await eventsOf(server, 'email_token_refused')).map((e) => e.detail)).toEqual(['sign_up: expired']);
});

test('asking again supersedes the earlier link: only the newest works', async () => {
  const server = await start();
  const email = newAddress();
  const older = await signUpLink(server, email);
  const newer = await signUpLink(server, email);
  expect(newer).not.toBe(older);
  const complete = (token: string) =>
    clientOf(server).mutate('auth.completeRegistration', { token, password: NEW_PASSWORD });
  expectInvalidLink(await complete(older));
  expect(await userRows(server, email)).toEqual([]);
  expect((await complete(newer)).status).toBe(200);
});

test('a link is good for its own purpose only: a reset link completes no sign-up, a sign-up link resets nothing', async () => {
  const server = await start();
  const { email: taken } = await createUser(server);
  await clientOf(server).mutate('auth.requestPasswordReset', { email: taken });
  const resetToken = tokenFromLink((await nextMailTo(server, taken)).link);
  const email = newAddress();
  const signUpToken = await signUpLink(server, email);

  expectInvalidLink(
    await clientOf(server).mutate('auth.completeRegistration', { token: resetToken, password: NEW_PASSWORD }),
  );
  expectInvalidLink(
    await clientOf(server).mutate('auth.resetPassword', { token: signUpToken, newPassword: NEW_PASSWORD }),
  );
  expect((await eventsOf(server, 'email_token_refused')).map((e) => e.detail)).toEqual([
    'sign_up: wrong_purpose',
    'password_reset: wrong_purpose',
  ]);
  // Nothing changed, and each link still works for what it was sent for.
  expect(await server.db.select().from(server.db.tables.users)).toHaveLength(1);
  expect((await clientOf(server).mutate('auth.login', { email: taken, password: PASSWORD })).status).toBe(200);
  const reset = await clientOf(server).mutate('auth.resetPassword', { token: resetToken, newPassword: NEW_PASSWORD });
  expect(reset.status).toBe(200);
  const signUp = await clientOf(server).mutate('auth.completeRegistration', {
    token: signUpToken,
    password: NEW_PASSWORD,
  });
  expect(signUp.status).toBe(200);
});

test('a malformed token is refused with 400 before any work: no hash, no limit charged, no link looked up', async () => {
  const server = await start();
  const email = newAddress();
  const token = await signUpLink(server, email);
  const device = clientOf(server);
  const malformed = ['', 'abc', `${token}x`, token.slice(1), `${token.slice(1)}.`, "' OR 1=1 --", '../'.repeat(15)];
  // More refusals than the per-address link limit allows uses: none of them counts.
  for (let i = 0; i <= RATE_LIMITS.linkPerIp.points; i++) {
    const bad = malformed[i % malformed.length];
    const res = await device.mutate('auth.completeRegistration', { token: bad, password: NEW_PASSWORD });
    expect(res.status, bad).toBe(400);
    expect(res.body.error?.data.code).toBe('BAD_REQUEST');
    const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
    expect(Object.keys(zodError.fieldErrors)).toEqual(['token']);
  }
  expect(await eventsOf(server, 'email_token_refused')).toEqual([]);
  expect(await eventsOf(server, 'rate_limited')).toEqual([]);
  const res = await device.mutate('auth.completeRegistration', { token, password: NEW_PASSWORD });
  expect(res.status).toBe(200);
});

test('link uses from one address are limited (each costs a password hash): 429 with Retry-After', async () => {
  const server = await start();
  const device = clientOf(server);
  const unknown = () => randomBytes(32).toString('base64url');
  for (let i = 0; i < RATE_LIMITS.linkPerIp.points; i++) {
    const res = await device.mutate('auth.completeRegistration', { token: unknown(), password: NEW_PASSWORD });
    expect(res.status).toBe(400);
  }
  const blocked = await device.mutate('auth.completeRegistration', { token: unknown(), password: NEW_PASSWORD });
  expect(blocked.status).toBe(429);
  expect(blocked.body.error?.data.code).toBe('TOO_MANY_REQUESTS');
  expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
});

test.each([
  ['a short password', 'short', /at least 8/],
  ['a common password', 'password1', /one of the most common passwords/],
  ['a common password in another case', 'IloveYou', /one of the most common passwords/],
  ['a 257-character password', 'x'.repeat(257), /at most 256/],
])('completing the sign-up refuses %s naming the field, and the link still works', async (_, password, message) => {
  const server = await start();
  const email = newAddress();
  const token = await signUpLink(server, email);
  const res = await clientOf(server).mutate('auth.completeRegistration', { token, password });
  expect(res.status).toBe(400);
  expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
  expect(zodError.fieldErrors.password?.[0]).toMatch(message);
  expect(await userRows(server, email)).toEqual([]);
  const ok = await clientOf(server).mutate('auth.completeRegistration', { token, password: NEW_PASSWORD });
  expect(ok.status).toBe(200);
});

test('two live links for one address: once one made the account the other is refused, and no second account exists', async () => {
  const server = await start();
  const email = newAddress();
  const first = await signUpLink(server, email);
  const second = await signUpLink(server, email);
  // Both live at once (say, issued before links superseded each other): the address decides.
  const { emailTokens } = server.db.tables;
  await server.db.update(emailTokens).set({ usedAt: null }).where(eq(emailTokens.email, email));
  const complete = (token: string, password: string) =>
    clientOf(server).mutate('auth.completeRegistration', { token, password });
  expect((await complete(first, NEW_PASSWORD)).status).toBe(200);
  expectInvalidLink(await complete(second, 'another new passphrase'));
  expect(await userRows(server, email)).toHaveLength(1);
  expect((await clientOf(server).mutate('auth.login', { email, password: NEW_PASSWORD })).status).toBe(200);
  expect((await clientOf(server).mutate('auth.login', { email, password: 'another new passphrase' })).status).toBe(401);
});

test('a sign-up link for an address that got an account meanwhile is refused and changes nothing', async () => {
  const server = await start();
  const email = newAddress();
  const token = await signUpLink(server, email);
  await createUser(server, { email }); // e.g. `npm run user:create`, or an e-mail change to it
  const res = await clientOf(server).mutate('auth.completeRegistration', { token, password: NEW_PASSWORD });
  expectInvalidLink(res);
  expect(await userRows(server, email)).toHaveLength(1);
  expect((await clientOf(server).mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  expect((await clientOf(server).mutate('auth.login', { email, password: NEW_PASSWORD })).status).toBe(401);
});

test('register for an unknown and a known address takes indistinguishable time', async () => {
  await expectAddressesTimedAlike(await start(), 'auth.register');
});

test('requests that send mail are limited per client address: 429 with Retry-After past it', async () => {
  const server = await start();
  const { email: taken } = await createUser(server);
  const ip = randomIp();
  const device = clientOf(server, undefined, ip);
  // Sign-up and reset requests share the limit.
  for (let i = 0; i < RATE_LIMITS.mailPerIp.points; i++) {
    const res =
      i % 2 === 0
        ? await device.mutate('auth.register', { email: newAddress() })
        : await device.mutate('auth.requestPasswordReset', { email: taken });
    expect(res.status).toBe(200);
  }
  const before = (await mailsTo(server, taken)).length;
  for (const path of ['auth.register', 'auth.requestPasswordReset']) {
    const blocked = await device.mutate(path, { email: path === 'auth.register' ? newAddress() : taken });
    expect(blocked.status, path).toBe(429);
    expect(blocked.body.error?.data.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.error?.message).toMatch(/try again in \d+ seconds/);
  }
  expect(await mailsTo(server, taken)).toHaveLength(before);
  expect((await eventsOf(server, 'rate_limited')).map((e) => e.detail)).toEqual([
    'auth.register',
    'auth.requestPasswordReset',
  ]);
  // Another address is not affected.
  expect((await clientOf(server).mutate('auth.register', { email: newAddress() })).status).toBe(200);
});

test.each([
  ['a new address', false],
  ['an address that has an account', true],
])(
  `past ${RATE_LIMITS.mailPerAddress.points} mails per window to %s the answer is identical but nothing more is sent`,
  async (_, hasAccount) => {
    const server = await start();
    const email = hasAccount ? (await createUser(server)).email : newAddress();
    const answers: CallResult[] = [];
    for (let i = 0; i < RATE_LIMITS.mailPerAddress.points + 2; i++) {
      answers.push(await clientOf(server).mutate('auth.register', { email })); // many devices
    }
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(answers[0]!.body);
      expect(comparable(answer.headers)).toEqual(comparable(answers[0]!.headers));
      expect(answer.setCookies).toEqual([]);
    }
    const mails = await mailsTo(server, email);
    expect(mails).toHaveLength(RATE_LIMITS.mailPerAddress.points);
    expect(new Set(mails.map(kindOf))).toEqual(new Set([hasAccount ? 'account_exists' : 'sign_up']));
    if (!hasAccount) {
      // A suppressed request issued no link, so it superseded none: the last link sent works.
      const res = await clientOf(server).mutate('auth.completeRegistration', {
        token: tokenFromLink(mails.at(-1)!.link),
        password: NEW_PASSWORD,
      });
      expect(res.status).toBe(200);
    }
  },
);
