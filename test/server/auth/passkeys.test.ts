// Passkeys over real HTTP, with a software authenticator (test/helpers/passkey.ts):
// registering, signing in without the password, the second step of a password sign-in,
// step-up, removal. Each rule is attacked: replayed and expired challenges, another
// origin, no user verification, a counter that does not move, another account's passkey.
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { MAX_PASSKEYS, WEBAUTHN_CHALLENGE_TTL_SECONDS } from '../../../server/auth/second-factor/passkeys.ts';
import { type TestClient, createClient } from '../../helpers/client.ts';
import { mailsTo, nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import {
  type Misbehaviour,
  type SoftAuthenticator,
  createSoftAuthenticator,
  registerPasskey,
} from '../../helpers/passkey.ts';
import { enableTotp } from '../../helpers/second-factor.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

const start = startServersPerTest();
type Server = Awaited<ReturnType<typeof start>>;

/** A fresh challenge, answered by `authenticator`. */
async function assertion(client: TestClient, authenticator: SoftAuthenticator, misbehaviour?: Misbehaviour) {
  const options = await client.mutate<PublicKeyCredentialRequestOptionsJSON>('auth.passkeyOptions');
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  return authenticator.get(options.body.result!.data, misbehaviour);
}

/** A user with one passkey, and a fresh browser. */
async function userWithPasskey() {
  const clock = createClock();
  const server = await start({ clock });
  const { client: settings, user, email } = await createUser(server, { clock });
  const authenticator = createSoftAuthenticator(server.config.appOrigin);
  const registered = await registerPasskey(settings, authenticator);
  expect(registered.status, JSON.stringify(registered.body)).toBe(200);
  const browser = createClient(server.url, server.config.appOrigin, clock);
  return { server, clock, settings, browser, user, email, authenticator, ...registered.body.result!.data };
}

const events = async (server: Server, type: string) => {
  const { auditEvents } = server.db.tables;
  return (await server.db.select().from(auditEvents).orderBy(auditEvents.id)).filter((event) => event.type === type);
};

const signInWithPasskey = (client: TestClient, passkey: unknown) =>
  client.mutate<{ user: { id: string } }>('auth.signInWithPasskey', { passkey });

test('registering: options for this site and account, the passkey listed, recovery codes once, the owner told', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const { client, user, email } = await createUser(server, { clock });
  const options = (await client.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions')).body
    .result!.data;
  expect(options.rp.id).toBe(new URL(server.config.appOrigin).hostname);
  expect(options.user.name).toBe(email);
  expect(options.user.id).not.toContain(email);
  expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
  const authenticator = createSoftAuthenticator(server.config.appOrigin);
  const first = await client.mutate<{ id: string; recoveryCodes: string[] | null }>('passkey.register', {
    response: authenticator.create(options),
    name: 'Laptop',
  });
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  expect(first.body.result!.data.recoveryCodes).toHaveLength(10);
  // The list shows labels and dates, never a key.
  const list = await client.query<Record<string, unknown>[]>('passkey.list');
  expect(list.body.result!.data).toEqual([
    { id: first.body.result!.data.id, name: 'Laptop', createdAt: expect.any(String), lastUsedAt: null },
  ]);
  expect((await client.query('secondFactor.status')).body.result?.data).toMatchObject({
    passkeys: 1,
    recoveryCodesLeft: 10,
  });
  expect((await mailsTo(server, email)).at(-1)?.subject).toContain('A passkey was added');
  expect(await events(server, 'second_factor_enabled')).toMatchObject([
    { userId: user.id, detail: `passkey ${first.body.result!.data.id}` },
  ]);
  // A second passkey keeps the codes the user already has; the options exclude the first.
  const second = await registerPasskey(client, createSoftAuthenticator(server.config.appOrigin), 'Phone');
  expect(second.body.result?.data.recoveryCodes).toBeNull();
  const again = (await client.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions')).body
    .result!.data;
  expect(again.excludeCredentials).toHaveLength(2);
  // A password sign-in now asks for a second step, offering the passkey.
  const other = createClient(server.url, server.config.appOrigin, clock);
  const login = await other.mutate<{ secondFactor: { methods: string[] } }>('auth.login', {
    email,
    password: PASSWORD,
  });
  expect(login.body.result!.data.secondFactor.methods).toEqual(['passkey', 'recovery_code']);
});

test('a registration is refused without a recent proof, for another account, another origin, or without user verification', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const alice = await createUser(server, { clock });
  const bob = await createUser(server, { clock });
  const authenticator = createSoftAuthenticator(server.config.appOrigin);
  // Alice's challenge answered in Bob's session: bound to Alice, so refused.
  const aliceOptions = (
    await alice.client.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions')
  ).body.result!.data;
  const stolen = await bob.client.mutate('passkey.register', {
    response: authenticator.create(aliceOptions),
    name: 'x',
  });
  expect(stolen.status).toBe(400);
  expect(stolen.body.error?.message).toMatch(/expired or was already answered/);
  for (const misbehaviour of [{ origin: 'https://evil.example' }, { noUserVerification: true }]) {
    const refused = await registerPasskey(alice.client, authenticator, 'x', misbehaviour);
    expect(refused.status, JSON.stringify(misbehaviour)).toBe(400);
    expect(refused.body.error?.message).toMatch(/could not be verified/);
  }
  // Garbage where the attestation goes: a 400 that says so, not a 500.
  const options = (await alice.client.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions'))
    .body.result!.data;
  const response = authenticator.create(options);
  const garbage = await alice.client.mutate('passkey.register', {
    response: { ...response, response: { ...response.response, attestationObject: 'AAAA' } },
    name: 'x',
  });
  expect(garbage.status).toBe(400);
  expect((await alice.client.query<unknown[]>('passkey.list')).body.result?.data).toEqual([]);
  // Past the re-authentication window, neither step is allowed.
  clock.advance(server.config.reauthWindow + 1);
  await alice.client.mutate('auth.refresh');
  expect((await alice.client.mutate('passkey.registrationOptions')).body.error?.data.authError).toBe('reauth_required');
});

test('signing in without the password: once per challenge, only for this origin, with user verification, the counter rising', async () => {
  const { server, browser, user, authenticator, clock } = await userWithPasskey();
  const signedIn = await signInWithPasskey(browser, await assertion(browser, authenticator));
  expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
  expect(signedIn.body.result!.data.user.id).toBe(user.id);
  expect((await browser.query<{ id: string }>('user.me')).body.result?.data.id).toBe(user.id);
  expect(await events(server, 'login')).toContainEqual(
    expect.objectContaining({ userId: user.id, detail: 'with passkey', outcome: 'success' }),
  );

  const other = createClient(server.url, server.config.appOrigin, clock);
  const refused = async (passkey: unknown, message: RegExp) => {
    const res = await signInWithPasskey(other, passkey);
    expect(res.status, JSON.stringify(res.body)).toBe(401);
    expect(res.body.error?.message).toMatch(message);
  };
  // The same assertion again: its challenge is used up.
  const used = await assertion(other, authenticator);
  expect((await signInWithPasskey(other, used)).status).toBe(200);
  await refused(used, /expired or was already answered/);
  // A challenge the server never issued, or one past its five minutes.
  await refused(await assertion(other, authenticator, { challenge: 'bm90LW91cnM' }), /expired or was already answered/);
  const late = await assertion(other, authenticator);
  clock.advance(WEBAUTHN_CHALLENGE_TTL_SECONDS + 1);
  await refused(late, /expired or was already answered/);
  // Relayed by a phishing site, without its PIN, with a counter that did not rise (a clone).
  await refused(await assertion(other, authenticator, { origin: 'https://evil.example' }), /could not be verified/);
  await refused(await assertion(other, authenticator, { noUserVerification: true }), /could not be verified/);
  await refused(await assertion(other, authenticator, { counter: 1 }), /could not be verified/);
  // A tampered signature.
  const tampered = await assertion(other, authenticator);
  tampered.response.authenticatorData = tampered.response.authenticatorData.replace(/^./, (c) =>
    c === 'A' ? 'B' : 'A',
  );
  await refused(tampered, /could not be verified/);
  // Malformed input: 400 with the field named.
  const malformed = await signInWithPasskey(other, { id: 'x', type: 'public-key' });
  expect(malformed.status).toBe(400);
  expect((await events(server, 'login')).filter((e) => e.outcome === 'failure').length).toBeGreaterThanOrEqual(7);
});

test('a disabled account, or a removed passkey, signs in no more', async () => {
  const { server, browser, settings, authenticator, user, id, email } = await userWithPasskey();
  const { users } = server.db.tables;
  await server.db.update(users).set({ disabledAt: new Date() });
  const disabled = await signInWithPasskey(browser, await assertion(browser, authenticator));
  expect(disabled.status).toBe(401);
  await server.db.update(users).set({ disabledAt: null });
  // Removed by its owner (a recent proof): gone from the list, the recovery codes with the last factor.
  expect((await settings.mutate('passkey.remove', { id })).status).toBe(200);
  expect((await settings.query('secondFactor.status')).body.result?.data).toMatchObject({
    passkeys: 0,
    recoveryCodesLeft: 0,
  });
  expect((await mailsTo(server, email)).at(-1)?.subject).toContain('A passkey was removed');
  expect(await events(server, 'second_factor_disabled')).toMatchObject([{ userId: user.id, detail: `passkey ${id}` }]);
  const removed = await signInWithPasskey(browser, await assertion(browser, authenticator));
  expect(removed.status).toBe(401);
  expect(removed.body.error?.message).toMatch(/not registered/);
  expect((await settings.mutate('passkey.remove', { id })).status).toBe(404);
});

test("the second step of a password sign-in: this account's passkey completes it, another account's does not", async () => {
  const { server, browser, email, authenticator, clock, user } = await userWithPasskey();
  const bob = await createUser(server, { clock });
  const bobsKey = createSoftAuthenticator(server.config.appOrigin);
  expect((await registerPasskey(bob.client, bobsKey)).status).toBe(200);

  const login = await browser.mutate<{ user: null }>('auth.login', { email, password: PASSWORD });
  expect(login.body.result?.data.user).toBeNull();
  const bobs = await browser.mutate('auth.completeSignIn', {
    secondFactor: { passkey: await assertion(browser, bobsKey) },
  });
  expect(bobs.status).toBe(401);
  expect(bobs.body.error?.message).toMatch(/not registered to this account/);
  expect((await browser.query('user.me')).status).toBe(401);
  const done = await browser.mutate<{ user: { id: string } }>('auth.completeSignIn', {
    secondFactor: { passkey: await assertion(browser, authenticator) },
  });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect(done.body.result!.data.user.id).toBe(user.id);
  expect(await events(server, 'login')).toContainEqual(
    expect.objectContaining({ detail: 'with passkey', userId: user.id }),
  );
  expect(await events(server, 'second_factor_used')).toContainEqual(
    expect.objectContaining({ userId: user.id, outcome: 'failure', detail: 'passkey sign_in: unknown_passkey' }),
  );
});

test('step-up with a passkey, and a rename that needs none; a passkey stops nobody else', async () => {
  const { server, settings, authenticator, clock, id } = await userWithPasskey();
  clock.advance(server.config.reauthWindow + 1);
  await settings.mutate('auth.refresh');
  expect((await settings.mutate('passkey.remove', { id })).body.error?.data.authError).toBe('reauth_required');
  const proof = await settings.mutate('auth.reauthenticate', {
    secondFactor: { passkey: await assertion(settings, authenticator) },
  });
  expect(proof.status, JSON.stringify(proof.body)).toBe(200);
  expect((await settings.mutate('passkey.rename', { id, name: '  Work laptop ' })).status).toBe(200);
  expect((await settings.query<{ name: string }[]>('passkey.list')).body.result?.data[0]?.name).toBe('Work laptop');
  expect((await settings.mutate('passkey.rename', { id, name: '' })).status).toBe(400);
  // Another user cannot rename or remove it.
  const mallory = await createUser(server, { clock });
  expect((await mallory.client.mutate('passkey.rename', { id, name: 'mine' })).status).toBe(404);
  expect((await mallory.client.mutate('passkey.remove', { id })).status).toBe(404);
});

test("an administrator removes a user's passkeys with the other factors", async () => {
  const { server, user, authenticator, browser, clock, email } = await userWithPasskey();
  const admin = await createUser(server, { clock, role: 'admin' });
  const list = await admin.client.query<{ users: { id: string; secondFactor: boolean }[] }>('admin.listUsers', {});
  expect(list.body.result?.data.users.find((u) => u.id === user.id)?.secondFactor).toBe(true);
  const removed = await admin.client.mutate('admin.removeSecondFactor', { userId: user.id });
  expect(removed.body.result?.data).toEqual({ removed: true });
  expect(await events(server, 'second_factor_disabled')).toContainEqual(
    expect.objectContaining({ userId: user.id, detail: `1 passkey(s) by admin ${admin.user.id}` }),
  );
  expect((await signInWithPasskey(browser, await assertion(browser, authenticator))).status).toBe(401);
  const login = await browser.mutate<{ secondFactor: unknown }>('auth.login', { email, password: PASSWORD });
  expect(login.body.result?.data.secondFactor).toBeNull();
});

test('passkey calls are limited per address: options and answers, so failures cannot fill the audit log', async () => {
  const server = await start();
  const client = createClient(server.url, server.config.appOrigin);
  const statuses: number[] = [];
  const { points } = RATE_LIMITS.passkeyPerIp;
  const bogus = {
    id: 'AAAA',
    rawId: 'AAAA',
    type: 'public-key',
    response: { clientDataJSON: '', authenticatorData: '', signature: '' },
  };
  for (let i = 0; i < points / 2; i++) statuses.push((await client.mutate('auth.passkeyOptions')).status);
  for (let i = 0; i < points / 2; i++) statuses.push((await signInWithPasskey(client, bogus)).status);
  expect(new Set(statuses)).toEqual(new Set([200, 401]));
  expect((await client.mutate('auth.passkeyOptions')).status).toBe(429);
  expect((await signInWithPasskey(client, bogus)).status).toBe(429);
  // A bogus answer uses no challenge and names no account: audited without one.
  expect((await events(server, 'login')).at(-1)).toMatchObject({ userId: null, detail: 'passkey: expired_challenge' });
});

test('with an authenticator app and a passkey, removing either keeps the second step and the recovery codes', async () => {
  const { server, settings, clock, email, id, recoveryCodes } = await userWithPasskey();
  const totp = await enableTotp(settings, clock.now());
  // The codes made with the passkey stay the account's codes.
  expect(totp.recoveryCodes).toBeNull();
  expect((await settings.mutate('secondFactor.disableTotp')).status).toBe(200);
  expect((await settings.query('secondFactor.status')).body.result?.data).toMatchObject({ recoveryCodesLeft: 10 });
  const browser = createClient(server.url, server.config.appOrigin, clock);
  const login = await browser.mutate<{ secondFactor: { methods: string[] } }>('auth.login', {
    email,
    password: PASSWORD,
  });
  expect(login.body.result?.data.secondFactor.methods).toEqual(['passkey', 'recovery_code']);
  const recovered = await browser.mutate('auth.completeSignIn', { secondFactor: { recoveryCode: recoveryCodes![0] } });
  expect(recovered.status).toBe(200);
  // The last factor gone: one step again, and no codes left to count as one.
  expect((await settings.mutate('passkey.remove', { id })).status).toBe(200);
  expect((await settings.query('secondFactor.status')).body.result?.data).toMatchObject({ recoveryCodesLeft: 0 });
  const plain = await createClient(server.url, server.config.appOrigin, clock).mutate<{ secondFactor: unknown }>(
    'auth.login',
    { email, password: PASSWORD },
  );
  expect(plain.body.result?.data.secondFactor).toBeNull();
});

test("a password reset of an account with a passkey asks for it, and takes no other account's", async () => {
  const { server, settings, email, authenticator, clock } = await userWithPasskey();
  const bob = await createUser(server, { clock });
  const bobsKey = createSoftAuthenticator(server.config.appOrigin);
  expect((await registerPasskey(bob.client, bobsKey)).status).toBe(200);
  const anonymous = createClient(server.url, server.config.appOrigin, clock);
  expect((await anonymous.mutate('auth.requestPasswordReset', { email })).status).toBe(200);
  const token = tokenFromLink((await nextMailTo(server, email)).link);
  const newPassword = 'a reset passphrase';
  const asked = await anonymous.mutate('auth.resetPassword', { token, newPassword });
  expect(asked.body.error?.data.authError).toBe('second_factor_required');
  const bobs = await anonymous.mutate('auth.resetPassword', {
    token,
    newPassword,
    secondFactor: { passkey: await assertion(anonymous, bobsKey) },
  });
  expect(bobs.status).toBe(400);
  // Nothing happened: the old session lives and the link still works.
  expect((await settings.query('user.me')).status).toBe(200);
  const done = await anonymous.mutate('auth.resetPassword', {
    token,
    newPassword,
    secondFactor: { passkey: await assertion(anonymous, authenticator) },
  });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect((await settings.query('user.me')).body.error?.data.authError).toBe('revoked_session');
});

test('a registration must attest the credential it names, a sane one, once, and within the limits', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const alice = await createUser(server, { clock });
  const bob = await createUser(server, { clock });
  const authenticator = createSoftAuthenticator(server.config.appOrigin);
  const refused = async (client: TestClient, misbehaviour: Misbehaviour, message: RegExp, name = 'x') => {
    const res = await registerPasskey(client, authenticator, name, misbehaviour);
    expect(res.status, JSON.stringify(misbehaviour)).toBe(400);
    expect(res.body.error?.message).toMatch(message);
  };
  // The response names one credential, the attested data holds another.
  await refused(alice.client, { responseId: 'c29tZW9uZS1lbHNl' }, /could not be verified/);
  // A credential ID over WebAuthn's 1023 bytes (named or not): refused, not a 500 from an index.
  await refused(alice.client, { credentialIdBytes: 1024 }, /could not be verified/);
  await refused(alice.client, { credentialIdBytes: 3000, responseId: 'AAAA' }, /could not be verified/);
  // A name on several lines.
  const multiline = await registerPasskey(alice.client, authenticator, 'Phone\nClick here');
  expect(multiline.status).toBe(400);
  // Alice's passkey registered to Bob too: refused (the same authenticator is one factor).
  expect((await registerPasskey(alice.client, authenticator)).status).toBe(200);
  await refused(bob.client, { reuse: authenticator.credentials.at(-1)! }, /already registered/);
  // Transports the browser reports that WebAuthn does not name are dropped.
  expect((await registerPasskey(alice.client, authenticator, 'Key', { transports: ['usb', 'usb,evil'] })).status).toBe(
    200,
  );
  const options = (await alice.client.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions'))
    .body.result!.data;
  // In no particular order: the rows share the test clock's time.
  expect(options.excludeCredentials?.map((c) => c.transports)).toEqual(expect.arrayContaining([['internal'], ['usb']]));
  expect(options.excludeCredentials).toHaveLength(2);
  // A registration challenge lives five minutes.
  clock.advance(WEBAUTHN_CHALLENGE_TTL_SECONDS + 1);
  await alice.client.mutate('auth.refresh');
  const late = await alice.client.mutate('passkey.register', { response: authenticator.create(options), name: 'x' });
  expect(late.body.error?.message).toMatch(/expired or was already answered/);
  // Failures are audited with their reason.
  const failures = (await events(server, 'second_factor_enabled')).filter((e) => e.outcome === 'failure');
  expect(failures.map((e) => e.detail)).toEqual([
    'passkey: not_verified',
    'passkey: not_verified',
    'passkey: not_verified',
    'passkey: already_registered',
    'passkey: expired_challenge',
  ]);
});

test(`an account has at most ${MAX_PASSKEYS} passkeys`, async () => {
  const server = await start();
  const { client } = await createUser(server);
  const authenticator = createSoftAuthenticator(server.config.appOrigin);
  for (let i = 0; i < MAX_PASSKEYS; i++)
    expect((await registerPasskey(client, authenticator, `Key ${i}`)).status).toBe(200);
  const more = await client.mutate('passkey.registrationOptions');
  expect(more.status).toBe(400);
  expect(more.body.error?.message).toMatch(/at most 20 passkeys/);
});

test("a challenge serves only its ceremony: a registration challenge signs nobody in, and stays its owner's", async () => {
  const { server, settings, browser, authenticator } = await userWithPasskey();
  const options = (await settings.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions')).body
    .result!.data;
  const request = { challenge: options.challenge, rpId: options.rp.id } as PublicKeyCredentialRequestOptionsJSON;
  const crossed = await signInWithPasskey(browser, authenticator.get(request));
  expect(crossed.status).toBe(401);
  expect(crossed.body.error?.message).toMatch(/expired or was already answered/);
  // The owner's registration with that challenge still goes through.
  const second = createSoftAuthenticator(server.config.appOrigin);
  const registered = await settings.mutate('passkey.register', { response: second.create(options), name: 'Phone' });
  expect(registered.status, JSON.stringify(registered.body)).toBe(200);
  // An authentication challenge does not register a passkey.
  const assertionOptions = (await settings.mutate<PublicKeyCredentialRequestOptionsJSON>('auth.passkeyOptions')).body
    .result!.data;
  const asRegistration = { ...options, challenge: assertionOptions.challenge };
  const wrong = await settings.mutate('passkey.register', { response: second.create(asRegistration), name: 'x' });
  expect(wrong.body.error?.message).toMatch(/expired or was already answered/);
});

test("an answer naming another account than its passkey's is refused and audited on the passkey's account", async () => {
  const { server, browser, authenticator, user } = await userWithPasskey();
  const res = await signInWithPasskey(browser, await assertion(browser, authenticator, { userHandle: 'c29tZW9uZQ' }));
  expect(res.status).toBe(401);
  expect((await events(server, 'login')).at(-1)).toMatchObject({
    userId: user.id,
    outcome: 'failure',
    detail: 'passkey: not_verified',
  });
});

test('answers with a field replaced by random bytes get a 4xx, never a 500', async () => {
  const { server, settings, authenticator } = await userWithPasskey();
  const fields = fc.constantFrom('clientDataJSON', 'attestationObject', 'authenticatorData', 'signature', 'userHandle');
  const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => isoBase64URL.fromBuffer(b));
  const anonymous = createClient(server.url, server.config.appOrigin);
  await fc.assert(
    fc.asyncProperty(fields, bytes, async (field, garbage) => {
      const options = (await settings.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions'))
        .body.result!.data;
      const created = createSoftAuthenticator(server.config.appOrigin).create(options);
      const registration = await settings.mutate<{ id: string }>('passkey.register', {
        response: { ...created, response: { ...created.response, [field]: garbage } },
        name: 'fuzz',
      });
      // A field registration does not read leaves the answer valid: remove that passkey, or the
      // 20-passkey cap, not the garbage, would decide the later runs.
      if (registration.status === 200)
        expect((await settings.mutate('passkey.remove', { id: registration.body.result!.data.id })).status).toBe(200);
      const signedIn = await assertion(anonymous, authenticator);
      const signIn = await signInWithPasskey(anonymous, {
        ...signedIn,
        response: { ...signedIn.response, [field]: garbage },
      });
      for (const res of [registration, signIn]) {
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
        if (res.status >= 400) expect(res.body.error?.message).toBeTruthy();
      }
    }),
    { numRuns: 25 },
  );
});
