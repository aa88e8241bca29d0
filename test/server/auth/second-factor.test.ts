// Two-step verification over real HTTP: enrolment, the sign-in's second step, recovery
// codes, step-up and password reset with a factor, and an admin removing one. Each rule
// is attacked: replayed codes, guessing, expired and reused steps, another account's step.
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { SECOND_FACTOR_COOKIE } from '../../../server/auth/cookies.ts';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { createSecretBox } from '../../../server/auth/second-factor/secret-box.ts';
import { CHALLENGE_TTL_SECONDS } from '../../../server/auth/second-factor/sign-in-challenge.ts';
import { NATIVE_HEADER, NATIVE_HEADER_VALUE } from '../../../server/auth/transport.ts';
import { type TestClient, createClient } from '../../helpers/client.ts';
import { mailsTo, nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { authenticatorFor, enableTotp } from '../../helpers/second-factor.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

const start = startServersPerTest();
type Server = Awaited<ReturnType<typeof start>>;

/** A user with TOTP on, the clock moved past the enrolment's step, and a fresh browser. */
async function userWithTotp() {
  const clock = createClock();
  const server = await start({ clock });
  const { client: settings, user, email } = await createUser(server, { clock });
  const { app, recoveryCodes, begin } = await enableTotp(settings, clock.now());
  // The enrolment's code used its step: a sign-in needs the next one (RFC 6238 §5.2).
  clock.advance(30);
  const browser = createClient(server.url, server.config.appOrigin, clock);
  return { server, clock, settings, browser, user, email, app, recoveryCodes, begin };
}

const signInFirstStep = (client: TestClient, email: string, password = PASSWORD) =>
  client.mutate<{ user: unknown; secondFactor: { methods: string[]; expiresAt: string } | null }>('auth.login', {
    email,
    password,
  });

const events = async (server: Server, type: string) => {
  const { auditEvents } = server.db.tables;
  return (await server.db.select().from(auditEvents).orderBy(auditEvents.id)).filter((event) => event.type === type);
};

test('enrolment: a QR code drawn here, the same secret as the key to type, and nothing changes until a first right code', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const { client, email } = await createUser(server, { clock });
  const begin = await client.mutate<{ uri: string; qrCodeSvg: string; manualKey: string }>('secondFactor.beginTotp');
  expect(begin.status).toBe(200);
  const { uri, qrCodeSvg, manualKey } = begin.body.result!.data;
  expect(qrCodeSvg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const url = new URL(uri);
  expect(url.protocol).toBe('otpauth:');
  expect(url.searchParams.get('secret')).toBe(manualKey.replace(/ /g, ''));
  expect(url.searchParams.get('secret')).toMatch(/^[A-Z2-7]{32}$/); // 160 bits
  expect(decodeURIComponent(url.pathname)).toContain(email);
  // Not on yet: a wrong first code changes nothing, and sign-in is one step.
  const wrong = await client.mutate('secondFactor.enableTotp', { code: '000000' });
  expect(wrong.status).toBe(400);
  expect((await client.query<{ totp: boolean }>('secondFactor.status')).body.result!.data.totp).toBe(false);
  const other = createClient(server.url, server.config.appOrigin, clock);
  expect((await signInFirstStep(other, email)).body.result!.data.secondFactor).toBeNull();
  // A second QR code replaces the first: the first app's codes never turn it on.
  const first = authenticatorFor(manualKey);
  expect((await client.mutate('secondFactor.beginTotp')).status).toBe(200);
  expect((await client.mutate('secondFactor.enableTotp', { code: first.code(clock.now()) })).status).toBe(400);
});

test('enabling gives ten distinct recovery codes once, mails the owner and audits it', async () => {
  const { server, settings, email, recoveryCodes, user } = await userWithTotp();
  expect(recoveryCodes).toHaveLength(10);
  expect(new Set(recoveryCodes).size).toBe(10);
  for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){4}$/);
  const status = await settings.query('secondFactor.status');
  expect(status.body.result?.data).toEqual({ totp: true, passkeys: 0, recoveryCodesLeft: 10, available: true });
  expect((await nextMailTo(server, email)).subject).toContain('Two-step verification is on');
  expect(await events(server, 'second_factor_enabled')).toMatchObject([{ userId: user.id, detail: 'totp' }]);
  // Turning it on twice is refused: moving to another app means turning it off first.
  expect((await settings.mutate('secondFactor.beginTotp')).status).toBe(409);
});

test('the secret is sealed at rest: the row holds neither the key nor anything another key or user can open', async () => {
  const { server, user, begin } = await userWithTotp();
  const { totpCredentials } = server.db.tables;
  const [row] = await server.db.select().from(totpCredentials).where(eq(totpCredentials.userId, user.id));
  const key = begin.manualKey.replace(/ /g, '');
  expect(row!.sealedSecret).toMatch(/^v1\./);
  expect(row!.sealedSecret).not.toContain(key);
  expect(row!.sealedSecret.toLowerCase()).not.toContain(key.toLowerCase());
  const right = createSecretBox(server.config.encryptionKey!);
  expect(right.open(row!.sealedSecret, `totp:${user.id}`)).not.toBeNull();
  expect(right.open(row!.sealedSecret, 'totp:someone-else')).toBeNull();
  expect(createSecretBox(Buffer.alloc(32, 7)).open(row!.sealedSecret, `totp:${user.id}`)).toBeNull();
});

test('a right password starts a second step, not a session: no token, only an HttpOnly challenge cookie', async () => {
  const { server, browser, email, app, clock, user } = await userWithTotp();
  const first = await signInFirstStep(browser, email);
  expect(first.status).toBe(200);
  expect(first.body.result!.data).toMatchObject({ user: null, secondFactor: { methods: ['totp', 'recovery_code'] } });
  expect(first.setCookies.map((c) => c.name)).toEqual([SECOND_FACTOR_COOKIE]);
  expect(first.setCookies[0]).toMatchObject({
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
    maxAge: CHALLENGE_TTL_SECONDS,
  });
  // The challenge is no session.
  const me = await browser.query('user.me');
  expect(me.status).toBe(401);
  expect(me.body.error?.data.authError).toBe('missing_token');
  const done = await browser.mutate<{ user: { id: string } }>('auth.completeSignIn', {
    secondFactor: { code: app.code(clock.now()) },
  });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect(done.body.result!.data.user.id).toBe(user.id);
  expect(browser.cookie(SECOND_FACTOR_COOKIE)).toBeUndefined();
  expect((await browser.query('user.me')).status).toBe(200);
  // The settings client's sign-in, then this one once complete: the first step is no `login`.
  expect((await events(server, 'login')).map((event) => event.detail)).toEqual([null, 'with totp']);
  expect(await events(server, 'second_factor_required')).toHaveLength(1);
});

test('a code is accepted one step either side of now, not two', async () => {
  const { browser, email, app, clock } = await userWithTotp();
  clock.advance(120);
  await signInFirstStep(browser, email);
  const at = clock.now();
  for (const steps of [-2, 2]) {
    const res = await browser.mutate('auth.completeSignIn', { secondFactor: { code: app.code(at, steps) } });
    expect(res.status, `${steps} steps`).toBe(401);
  }
  expect((await browser.mutate('auth.completeSignIn', { secondFactor: { code: app.code(at, 1) } })).status).toBe(200);
});

test('a code already used in its step is refused, and so is an older one after a newer was used', async () => {
  const { server, browser, email, app, clock, user } = await userWithTotp();
  await signInFirstStep(browser, email);
  const code = app.code(clock.now());
  expect((await browser.mutate('auth.completeSignIn', { secondFactor: { code } })).status).toBe(200);
  // Someone who saw the code over the owner's shoulder, in the same 30 seconds.
  const thief = createClient(server.url, server.config.appOrigin, clock);
  await signInFirstStep(thief, email);
  const replay = await thief.mutate('auth.completeSignIn', { secondFactor: { code } });
  expect(replay.status).toBe(401);
  expect(replay.body.error?.message).toMatch(/already used/);
  // The previous step's code is inside the window, but older than the one used.
  expect(
    (await thief.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now(), -1) } })).status,
  ).toBe(401);
  expect(await events(server, 'second_factor_used')).toContainEqual(
    expect.objectContaining({ userId: user.id, outcome: 'failure', detail: 'totp sign_in: replayed' }),
  );
});

test('wrong codes are limited per account: past five even the right code must wait 15 minutes; a recovery code still works', async () => {
  const { server, browser, email, app, clock, recoveryCodes } = await userWithTotp();
  await signInFirstStep(browser, email);
  const wrong = app.code(clock.now()) === '123456' ? '654321' : '123456';
  for (let i = 0; i < RATE_LIMITS.totpPerAccount.points; i++) {
    expect((await browser.mutate('auth.completeSignIn', { secondFactor: { code: wrong } })).status).toBe(401);
  }
  // From another address and another challenge too: the limit is the account's.
  const elsewhere = createClient(server.url, server.config.appOrigin, clock);
  await signInFirstStep(elsewhere, email);
  const blocked = await elsewhere.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(blocked.status).toBe(429);
  // The wait is the limit's window (the limiter keeps real time, not the test's clock).
  expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(RATE_LIMITS.totpPerAccount.duration - 60);
  expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(RATE_LIMITS.totpPerAccount.duration);
  expect(
    (await elsewhere.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: recoveryCodes[0] } })).status,
  ).toBe(200);
  // The first browser's step ended when the second began: one open step per account.
  const voided = await browser.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(voided.body.error?.data.authError).toBe('second_factor_expired');
});

test('the second step expires, works once, and only for the account whose password was given', async () => {
  const { server, browser, email, app, clock } = await userWithTotp();
  // Expired.
  await signInFirstStep(browser, email);
  clock.advance(CHALLENGE_TTL_SECONDS + 1);
  browser.setCookie(SECOND_FACTOR_COOKIE, browser.cookie(SECOND_FACTOR_COOKIE) ?? 'gone'); // a browser that kept it
  const expired = await browser.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(expired.status).toBe(401);
  expect(expired.body.error?.data.authError).toBe('second_factor_expired');
  // Used once.
  await signInFirstStep(browser, email);
  const challenge = browser.cookie(SECOND_FACTOR_COOKIE)!;
  expect((await browser.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } })).status).toBe(
    200,
  );
  const again = createClient(server.url, server.config.appOrigin, clock);
  again.setCookie(SECOND_FACTOR_COOKIE, challenge);
  clock.advance(30);
  const reused = await again.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(reused.body.error?.data.authError).toBe('second_factor_expired');
  // Another account's step: an attacker with A's password and their own authenticator.
  const attacker = await createUser(server, { clock });
  const { app: attackerApp } = await enableTotp(attacker.client, clock.now());
  clock.advance(30);
  const victim = createClient(server.url, server.config.appOrigin, clock);
  await signInFirstStep(victim, email);
  const crossed = await victim.mutate('auth.completeSignIn', { secondFactor: { code: attackerApp.code(clock.now()) } });
  expect(crossed.status).toBe(401);
  expect((await victim.query('user.me')).status).toBe(401);
});

test('no challenge at all, or a forged one, is refused with second_factor_expired', async () => {
  const { server, clock, app } = await userWithTotp();
  const stranger = createClient(server.url, server.config.appOrigin, clock);
  const none = await stranger.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(none.body.error?.data.authError).toBe('second_factor_expired');
  stranger.setCookie(SECOND_FACTOR_COOKIE, 'A'.repeat(43));
  const forged = await stranger.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(forged.body.error?.data.authError).toBe('second_factor_expired');
  const malformed = await stranger.mutate('auth.completeSignIn', { secondFactor: { code: '12345' } });
  expect(malformed.status).toBe(400);
});

test('a password changed between the two steps voids the step', async () => {
  const { browser, email, app, clock, settings } = await userWithTotp();
  await signInFirstStep(browser, email);
  expect(
    (await settings.mutate('auth.changePassword', { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' }))
      .status,
  ).toBe(200);
  const res = await browser.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(res.status).toBe(401);
  expect((await browser.query('user.me')).status).toBe(401);
});

test('a recovery code signs in once (any case, with or without its dash), is mailed to the owner and audited', async () => {
  const { server, browser, email, recoveryCodes, clock, user } = await userWithTotp();
  await signInFirstStep(browser, email);
  const typed = recoveryCodes[3]!.toUpperCase().replace('-', ' ');
  expect((await browser.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: typed } })).status).toBe(200);
  const mail = await nextMailTo(server, email);
  expect(mail.subject).toContain('A recovery code was used');
  expect(mail.text).toContain('9 unused code(s) left');
  expect(await events(server, 'second_factor_used')).toContainEqual(
    expect.objectContaining({ userId: user.id, outcome: 'success', detail: 'recovery_code sign_in' }),
  );
  const other = createClient(server.url, server.config.appOrigin, clock);
  await signInFirstStep(other, email);
  const reused = await other.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: recoveryCodes[3] } });
  expect(reused.status).toBe(401);
  expect(reused.body.error?.message).toMatch(/recovery code/);
});

test('new recovery codes replace the old set', async () => {
  const { server, settings, browser, email, recoveryCodes, user } = await userWithTotp();
  const fresh = await settings.mutate<{ recoveryCodes: string[] }>('secondFactor.regenerateRecoveryCodes');
  expect(fresh.status).toBe(200);
  const codes = fresh.body.result!.data.recoveryCodes;
  expect(codes).toHaveLength(10);
  await signInFirstStep(browser, email);
  expect(
    (await browser.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: recoveryCodes[0] } })).status,
  ).toBe(401);
  expect((await browser.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: codes[0] } })).status).toBe(200);
  expect(await events(server, 'recovery_codes_generated')).toHaveLength(2);
  const subjects = (await mailsTo(server, email)).map((mail) => mail.subject);
  expect(subjects.filter((subject) => subject.includes('New recovery codes'))).toHaveLength(1);
  expect((await events(server, 'recovery_codes_generated')).every((e) => e.userId === user.id)).toBe(true);
});

test('turning it off makes sign-in one step again, drops the recovery codes, mails the owner', async () => {
  const { server, settings, browser, email, recoveryCodes } = await userWithTotp();
  expect((await settings.mutate('secondFactor.disableTotp')).status).toBe(200);
  expect((await settings.query('secondFactor.status')).body.result?.data).toEqual({
    totp: false,
    passkeys: 0,
    recoveryCodesLeft: 0,
    available: true,
  });
  expect((await signInFirstStep(browser, email)).body.result!.data.secondFactor).toBeNull();
  expect((await mailsTo(server, email)).at(-1)?.subject).toContain('Two-step verification is off');
  expect(recoveryCodes).toHaveLength(10);
  expect((await settings.mutate('secondFactor.regenerateRecoveryCodes')).status).toBe(400);
});

test('step-up with a code from the app, once per step; a wrong one is a 400 that renews nothing', async () => {
  const { server, settings, app, clock } = await userWithTotp();
  clock.advance(server.config.reauthWindow + 1);
  await settings.mutate('auth.refresh');
  expect((await settings.mutate('session.revokeOthers')).body.error?.data.authError).toBe('reauth_required');
  const wrong = await settings.mutate('auth.reauthenticate', { secondFactor: { code: '000000' } });
  expect(wrong.status).toBe(400);
  const code = app.code(clock.now());
  expect((await settings.mutate('auth.reauthenticate', { secondFactor: { code } })).status).toBe(200);
  expect((await settings.mutate('session.revokeOthers')).status).toBe(200);
  expect((await settings.mutate('auth.reauthenticate', { secondFactor: { code } })).status).toBe(400);
});

test('step-up with a code needs an account with a factor', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const { client } = await createUser(server, { clock });
  const res = await client.mutate('auth.reauthenticate', { secondFactor: { code: '123456' } });
  expect(res.status).toBe(400);
  expect(res.body.error?.message).toMatch(/no second factor/);
});

test('a password reset asks for the factor before it uses the link or ends a session', async () => {
  const { server, settings, email, app, clock } = await userWithTotp();
  const anonymous = createClient(server.url, server.config.appOrigin, clock);
  expect((await anonymous.mutate('auth.requestPasswordReset', { email })).status).toBe(200);
  const token = tokenFromLink((await nextMailTo(server, email)).link);
  const newPassword = 'a reset passphrase';
  const asked = await anonymous.mutate('auth.resetPassword', { token, newPassword });
  expect(asked.status).toBe(401);
  expect(asked.body.error?.data.authError).toBe('second_factor_required');
  const wrong = await anonymous.mutate('auth.resetPassword', { token, newPassword, secondFactor: { code: '000000' } });
  expect(wrong.status).toBe(400);
  // Nothing happened: the old session lives and the link still works.
  expect((await settings.query('user.me')).status).toBe(200);
  const done = await anonymous.mutate('auth.resetPassword', {
    token,
    newPassword,
    secondFactor: { code: app.code(clock.now()) },
  });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect((await settings.query('user.me')).body.error?.data.authError).toBe('revoked_session');
  expect((await anonymous.query('user.me')).status).toBe(200);
});

test('an admin sees who has a factor and can remove it: audited, mailed, sign-in is one step again', async () => {
  const { server, browser, email, user, clock } = await userWithTotp();
  const admin = await createUser(server, { role: 'admin', clock });
  const list = await admin.client.query<{ users: { id: string; secondFactor: boolean }[] }>('admin.listUsers', {});
  const row = list.body.result!.data.users.find((u) => u.id === user.id);
  expect(row?.secondFactor).toBe(true);
  expect(list.body.result!.data.users.find((u) => u.id === admin.user.id)?.secondFactor).toBe(false);
  // Only with the admin's recent proof, and never on their own account.
  expect((await admin.client.mutate('admin.removeSecondFactor', { userId: admin.user.id })).status).toBe(400);
  clock.advance(server.config.reauthWindow + 1);
  await admin.client.mutate('auth.refresh');
  const stale = await admin.client.mutate('admin.removeSecondFactor', { userId: user.id });
  expect(stale.body.error?.data.authError).toBe('reauth_required');
  expect((await admin.client.mutate('auth.reauthenticate', { password: PASSWORD })).status).toBe(200);
  const removed = await admin.client.mutate('admin.removeSecondFactor', { userId: user.id });
  expect(removed.body.result?.data).toEqual({ removed: true });
  expect((await mailsTo(server, email)).at(-1)?.text).toContain('An administrator removed the second factors');
  expect(await events(server, 'second_factor_disabled')).toContainEqual(
    expect.objectContaining({ userId: user.id, detail: `totp by admin ${admin.user.id}` }),
  );
  expect((await signInFirstStep(browser, email)).body.result!.data.secondFactor).toBeNull();
  // Not for anyone else.
  const stranger = await createUser(server, { clock });
  expect((await stranger.client.mutate('admin.removeSecondFactor', { userId: user.id })).status).toBe(403);
});

test('a native client gets the step in the body and completes it there; a browser may not send one in the body', async () => {
  const { server, email, app, clock } = await userWithTotp();
  const call = (path: string, body: unknown) =>
    fetch(`${server.url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [NATIVE_HEADER]: NATIVE_HEADER_VALUE },
      body: JSON.stringify(body),
    });
  const first = await call('auth.login', { email, password: PASSWORD });
  expect(first.headers.getSetCookie()).toEqual([]);
  const { secondFactor } = ((await first.json()) as { result: { data: { secondFactor: { challenge: string } } } })
    .result.data;
  expect(secondFactor.challenge).toMatch(/^[\w-]{43}$/);
  const done = await call('auth.completeSignIn', {
    secondFactor: { code: app.code(clock.now()) },
    challenge: secondFactor.challenge,
  });
  expect(done.status).toBe(200);
  const body = (await done.json()) as { result: { data: { tokens: { accessToken: string } } } };
  expect(body.result.data.tokens.accessToken).toMatch(/^ey/);
  const browser = createClient(server.url, server.config.appOrigin, clock);
  const refused = await browser.mutate('auth.completeSignIn', {
    secondFactor: { code: '123456' },
    challenge: secondFactor.challenge,
  });
  expect(refused.status).toBe(400);
});

test('recovery codes are stored as SHA-256 only (124 random bits need no salt), never as themselves', async () => {
  const { server, user, recoveryCodes } = await userWithTotp();
  const { recoveryCodes: table } = server.db.tables;
  const rows = await server.db.select().from(table).where(eq(table.userId, user.id));
  expect(rows).toHaveLength(10);
  for (const row of rows) expect(row.codeHash).toMatch(/^[\w-]{43}$/);
  const stored = JSON.stringify(rows);
  for (const code of recoveryCodes) {
    expect(stored).not.toContain(code);
    expect(stored).not.toContain(code.replace(/-/g, ''));
  }
});

test('five wrong codes in a row mail the owner once: someone past the password may be guessing', async () => {
  const { server, browser, email } = await userWithTotp();
  await signInFirstStep(browser, email);
  for (let i = 0; i < RATE_LIMITS.totpPerAccount.points + 1; i++) {
    await browser.mutate('auth.completeSignIn', { secondFactor: { code: '000000' } });
  }
  const warnings = (await mailsTo(server, email)).filter((mail) => mail.subject.includes('Wrong authenticator codes'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.text).toContain('Your recovery codes still work');
});

test('recovery-code attempts are limited per account and address: a stranger using them up leaves the owner theirs', async () => {
  const { server, browser, email, recoveryCodes, clock } = await userWithTotp();
  const stranger = createClient(server.url, server.config.appOrigin, clock);
  await signInFirstStep(stranger, email);
  const wrong = 'aaaaa-aaaaa-aaaaa-aaaaa-aaaaa';
  for (let i = 0; i < RATE_LIMITS.recoveryCodePerAccountAndIp.points; i++) {
    expect((await stranger.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: wrong } })).status).toBe(401);
  }
  expect((await stranger.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: wrong } })).status).toBe(429);
  await signInFirstStep(browser, email);
  const owner = await browser.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: recoveryCodes[1] } });
  expect(owner.status).toBe(200);
});

test('an unreadable secret (ENCRYPTION_KEY changed) is refused like a wrong code, logged and audited, never a 500', async () => {
  const { server, browser, email, app, clock, user } = await userWithTotp();
  const { totpCredentials } = server.db.tables;
  const other = createSecretBox(Buffer.alloc(32, 5)).seal(new Uint8Array(20), `totp:${user.id}`);
  await server.db.update(totpCredentials).set({ sealedSecret: other }).where(eq(totpCredentials.userId, user.id));
  await signInFirstStep(browser, email);
  const res = await browser.mutate('auth.completeSignIn', { secondFactor: { code: app.code(clock.now()) } });
  expect(res.status).toBe(401);
  expect(await events(server, 'second_factor_used')).toContainEqual(
    expect.objectContaining({ outcome: 'failure', detail: 'totp sign_in: unreadable' }),
  );
});

test('without ENCRYPTION_KEY the app runs, and turning two-step verification on is refused with the reason', async () => {
  const clock = createClock();
  const server = await start({ clock, vars: { ENCRYPTION_KEY: '' } });
  const { client } = await createUser(server, { clock });
  expect((await client.query('secondFactor.status')).body.result?.data).toEqual({
    totp: false,
    passkeys: 0,
    recoveryCodesLeft: 0,
    available: false,
  });
  const begin = await client.mutate('secondFactor.beginTotp');
  expect(begin.status).toBe(412);
  expect(begin.body.error?.message).toMatch(/ENCRYPTION_KEY is not set/);
});
