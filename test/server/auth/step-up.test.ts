// Step-up ("sudo mode", RFC 9470) over real HTTP: changing the e-mail, deleting the account
// and ending other sessions need a password proof from the last REAUTH_WINDOW. A stale
// proof gets 401 reauth_required without ending the session; only auth.reauthenticate
// (limited per session) renews it, never a refresh.
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { appRouter } from '../../../server/routers/_app.ts';
import type { Access } from '../../../server/trpc.ts';
import { type CallResult, type TestClient, createClient } from '../../helpers/client.ts';
import { mailsTo } from '../../helpers/mail.ts';
import { registerPasskey } from '../../helpers/passkey.ts';
import { authenticatorFor } from '../../helpers/second-factor.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

const start = startServersPerTest();
type Server = Awaited<ReturnType<typeof start>>;

const procedures = Object.entries(appRouter._def.procedures) as [
  string,
  { _def: { type: 'query' | 'mutation' | 'subscription'; meta?: { access?: Access } } },
][];
const recentAuthPaths = procedures.filter(([, p]) => p._def.meta?.access === 'recent-auth').map(([path]) => path);

/** Each recent-auth action with a valid input, so only the proof decides. */
const ACTIONS: Record<string, (client: TestClient) => Promise<CallResult>> = {
  'account.changeEmail': (client) => client.mutate('account.changeEmail', { newEmail: 'next-address@example.com' }),
  'session.revokeOthers': (client) => client.mutate('session.revokeOthers'),
  'account.delete': (client) => client.mutate('account.delete'),
  'secondFactor.beginTotp': (client) => client.mutate('secondFactor.beginTotp'),
  'secondFactor.enableTotp': async (client) => {
    const begin = await client.mutate<{ manualKey: string }>('secondFactor.beginTotp');
    if (begin.status !== 200) return begin;
    const app = authenticatorFor(begin.body.result!.data.manualKey);
    return client.mutate('secondFactor.enableTotp', { code: app.code(client.now()) });
  },
  'secondFactor.disableTotp': (client) => client.mutate('secondFactor.disableTotp'),
  'passkey.registrationOptions': (client) => client.mutate('passkey.registrationOptions'),
  'passkey.register': (client) => registerPasskey(client),
  'passkey.remove': async (client) => {
    const registered = await registerPasskey(client);
    return registered.status === 200
      ? client.mutate('passkey.remove', { id: registered.body.result!.data.id })
      : registered;
  },
  'secondFactor.regenerateRecoveryCodes': async (client) => {
    const enable = await ACTIONS['secondFactor.enableTotp']!(client);
    return enable.status === 200 ? client.mutate('secondFactor.regenerateRecoveryCodes') : enable;
  },
};

/** A signed-in user on a second device too, on a server whose clock the test moves. */
async function setup(vars: Record<string, string> = {}) {
  const clock = createClock();
  const server = await start({ vars, clock });
  const { client, user, email } = await createUser(server, { clock });
  const phone = createClient(server.url, server.config.appOrigin, clock);
  expect((await phone.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  return { server, clock, client, phone, user, email, window: server.config.reauthWindow };
}

function expectReauthRequired(server: Server, res: CallResult, window = server.config.reauthWindow) {
  expect(res.status).toBe(401);
  expect(res.body.error?.data.code).toBe('UNAUTHORIZED');
  expect(res.body.error?.data.authError).toBe('reauth_required');
  expect(res.body.error?.message).toBe('Confirm your password to continue');
  expect(res.headers.get('www-authenticate')).toBe(
    `Bearer realm="${server.services.realm}", error="insufficient_user_authentication", ` +
      `error_description="Confirm your password to continue", max_age=${window}`,
  );
  // The session is not touched: no cookie is cleared or set.
  expect(res.setCookies).toEqual([]);
}

const userExists = async (server: Server, id: string) => {
  const { users } = server.db.tables;
  const [user] = await server.db.select().from(users).where(eq(users.id, id));
  return user;
};
const reauthEvents = (server: Server) => {
  const { auditEvents } = server.db.tables;
  return server.db.select().from(auditEvents).where(eq(auditEvents.type, 'reauthenticated')).orderBy(auditEvents.id);
};

test('the recent-auth procedures are exactly these', () => {
  expect(recentAuthPaths.sort()).toEqual(Object.keys(ACTIONS).sort());
});

test.each(Object.keys(ACTIONS))('a fresh sign-in can call %s', async (path) => {
  const { server, client } = await setup();
  const res = await ACTIONS[path]!(client);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(server.config.reauthWindow).toBe(600); // the documented default
});

test.each(Object.keys(ACTIONS))(
  'past REAUTH_WINDOW %s answers 401 reauth_required, does nothing, and the session goes on',
  async (path) => {
    const { server, clock, client, phone, user, email, window } = await setup();
    clock.advance(window + 1);
    expectReauthRequired(server, await ACTIONS[path]!(client));
    // Nothing happened: the account, its address and the other device are as they were.
    expect((await userExists(server, user.id))?.email).toBe(email);
    expect(await mailsTo(server, 'next-address@example.com')).toEqual([]);
    expect((await phone.query('user.me')).status).toBe(200);
    // The session itself is fine: it reads, and it refreshes.
    expect((await client.query('user.me')).status).toBe(200);
    expect((await client.mutate('auth.refresh')).status).toBe(200);
    expect((await client.query('user.me')).status).toBe(200);
  },
);

test('every recent-auth procedure refuses a stale session before reading its input', async () => {
  const { server, clock, client, window } = await setup();
  clock.advance(window + 1);
  expect(recentAuthPaths.length).toBeGreaterThan(0);
  for (const [path, p] of procedures) {
    if (p._def.meta?.access !== 'recent-auth') continue;
    const res = p._def.type === 'query' ? await client.query(path) : await client.mutate(path);
    expect(res.status, path).toBe(401);
    expect(res.body.error?.data.authError, path).toBe('reauth_required');
    expectReauthRequired(server, res);
  }
});

test('just inside REAUTH_WINDOW the proof still holds', async () => {
  const { clock, client, window } = await setup();
  clock.advance(window - 1);
  expect((await ACTIONS['session.revokeOthers']!(client)).status).toBe(200);
});

test('REAUTH_WINDOW is configurable, and the challenge states it as max_age', async () => {
  const { server, clock, client } = await setup({ REAUTH_WINDOW: '30' });
  clock.advance(31);
  expectReauthRequired(server, await ACTIONS['account.changeEmail']!(client), 30);
});

test('reauthenticate with the right password renews the proof: the action then works, and it is audited', async () => {
  const { server, clock, client, phone, user, window } = await setup();
  clock.advance(window + 1);
  expectReauthRequired(server, await ACTIONS['session.revokeOthers']!(client));
  const res = await client.mutate('auth.reauthenticate', { password: PASSWORD });
  expect(res.status).toBe(200);
  expect(res.body.result?.data).toEqual({ ok: true });
  expect(res.setCookies).toEqual([]);
  const revoke = await ACTIONS['session.revokeOthers']!(client);
  expect(revoke.status).toBe(200);
  expect(revoke.body.result?.data).toEqual({ endedSessions: 1 });
  expect((await phone.query('user.me')).body.error?.data.authError).toBe('revoked_session');
  const events = await reauthEvents(server);
  expect(events).toMatchObject([{ outcome: 'success', userId: user.id }]);
  // A renewed proof lasts one window again.
  clock.advance(window + 1);
  expect((await client.mutate('auth.refresh')).status).toBe(200); // the access token expired meanwhile
  expectReauthRequired(server, await ACTIONS['session.revokeOthers']!(client));
});

test('a wrong password is a 400 that renews nothing', async () => {
  const { server, clock, client, window } = await setup();
  clock.advance(window + 1);
  const res = await client.mutate('auth.reauthenticate', { password: 'not my password' });
  expect(res.status).toBe(400);
  expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  expect(res.body.error?.message).toBe('The password is not correct');
  expectReauthRequired(server, await ACTIONS['account.delete']!(client));
  const events = await reauthEvents(server);
  expect(events).toMatchObject([{ outcome: 'failure', detail: 'wrong password' }]);
});

test('wrong passwords are limited per session: past the limit even the right one gets 429 with Retry-After', async () => {
  const { server, clock, client, phone, window } = await setup();
  clock.advance(window + 1);
  for (let i = 0; i < RATE_LIMITS.currentPasswordPerSession.points; i++) {
    expect((await client.mutate('auth.reauthenticate', { password: `guess ${i}` })).status).toBe(400);
  }
  const blocked = await client.mutate('auth.reauthenticate', { password: PASSWORD });
  expect(blocked.status).toBe(429);
  expect(blocked.body.error?.data.code).toBe('TOO_MANY_REQUESTS');
  expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  expectReauthRequired(server, await ACTIONS['account.delete']!(client));
  // The owner's other session is not affected.
  expect((await phone.mutate('auth.reauthenticate', { password: PASSWORD })).status).toBe(200);
});

test('a refresh does not renew the proof', async () => {
  const { server, clock, client, window } = await setup();
  clock.advance(window + 1);
  const refresh = await client.mutate('auth.refresh');
  expect(refresh.status).toBe(200);
  expect(refresh.setCookies.length).toBeGreaterThan(0);
  expectReauthRequired(server, await ACTIONS['account.changeEmail']!(client));
});

test('a proof renews only the session that gave it', async () => {
  const { server, clock, client, phone, window } = await setup();
  clock.advance(window + 1);
  expect((await phone.mutate('auth.reauthenticate', { password: PASSWORD })).status).toBe(200);
  expectReauthRequired(server, await ACTIONS['session.revokeOthers']!(client));
  expect((await ACTIONS['session.revokeOthers']!(phone)).status).toBe(200);
});

test('reauthenticate needs a session', async () => {
  const { server, clock } = await setup();
  const anonymous = createClient(server.url, server.config.appOrigin, clock);
  const res = await anonymous.mutate('auth.reauthenticate', { password: PASSWORD });
  expect(res.status).toBe(401);
  expect(res.body.error?.data.authError).toBe('missing_token');
});

test('ending another session needs a recent proof too; ending this one does not', async () => {
  const { server, clock, client, phone } = await setup();
  clock.advance(server.config.reauthWindow + 1);
  // A refresh keeps the access token valid; it does not renew the proof.
  await client.mutate('auth.refresh');
  await phone.mutate('auth.refresh');
  const sessions = (await client.query<{ id: string; current: boolean }[]>('session.list')).body.result!.data;
  const other = sessions.find((s) => !s.current)!;
  // With a stolen, stale session, session.revoke on each id would do what revokeOthers may not.
  expectReauthRequired(server, await client.mutate('session.revoke', { id: other.id }));
  expect((await phone.query('user.me')).status).toBe(200);
  const own = sessions.find((s) => s.current)!;
  expect((await client.mutate('session.revoke', { id: own.id })).status).toBe(200);
});
