// The security audit log: every flow writes the events an auditor expects, with who,
// from where and how it went, and never a password or token.
import { expect, test } from 'vitest';
import { auditEvents } from '../../../db/schema.ts';
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../../../server/auth/cookies.ts';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { createClient } from '../../helpers/client.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

type Server = Awaited<ReturnType<typeof start>>['server'];
const startServer = startServersPerTest();
async function start(vars: Record<string, string> = {}) {
  const clock = createClock();
  return { server: await startServer({ vars, clock }), clock };
}
const eventsOf = (server: Server) => server.db.select().from(auditEvents).orderBy(auditEvents.id).all();
const summary = (server: Server) => eventsOf(server).map((e) => [e.type, e.outcome, e.detail]);

test('sign-up and sign-in record who, which session, from where and with what', async () => {
  const { server } = await start();
  const { user, email } = await createUser(server);
  const ip = '2001:db8:1:2::1';
  await createClient(server.url, server.config.appOrigin, undefined, ip).mutate('auth.login', {
    email,
    password: 'wrong password',
  });
  await createClient(server.url, server.config.appOrigin, undefined, ip).mutate('auth.login', {
    email,
    password: PASSWORD,
  });
  const [signUp, failure, success] = eventsOf(server);
  expect(signUp).toMatchObject({ type: 'sign_up', outcome: 'success', userId: user.id, userAgent: 'test-client' });
  expect(signUp?.sessionId).toBeTruthy();
  expect(failure).toMatchObject({
    type: 'login',
    outcome: 'failure',
    userId: null,
    ip: '2001:db8:1:2::/64',
    detail: `email=${email}`,
  });
  expect(success).toMatchObject({ type: 'login', outcome: 'success', userId: user.id, ip: '2001:db8:1:2::/64' });
});

test('refresh-token reuse records the detection and the ended session', async () => {
  const { server, clock } = await start({ REFRESH_REUSE_GRACE: '0' });
  const { client, user } = await createUser(server);
  const stolen = client.cookie(REFRESH_COOKIE)!;
  await client.mutate('auth.refresh');
  clock.advance(1);
  const thief = createClient(server.url, server.config.appOrigin);
  thief.setCookie(REFRESH_COOKIE, stolen, REFRESH_COOKIE_PATH);
  await thief.mutate('auth.refresh');
  expect(summary(server).slice(1)).toEqual([
    ['refresh_reuse_detected', 'failure', null],
    ['session_revoked', 'success', 'reuse_detected'],
  ]);
  expect(eventsOf(server).at(-1)?.userId).toBe(user.id);
});

test('logout, session revocation and password change record each ended session with its reason', async () => {
  const { server } = await start();
  const { client, email } = await createUser(server);
  const others = [0, 1, 2].map(() => createClient(server.url, server.config.appOrigin));
  for (const other of others) await other.mutate('auth.login', { email, password: PASSWORD });
  await others[0]!.mutate('auth.logout');
  await client.mutate('auth.changePassword', { currentPassword: 'not it', newPassword: 'a brand new password' });
  await client.mutate('auth.changePassword', { currentPassword: PASSWORD, newPassword: 'a brand new password' });
  const after = summary(server).slice(4); // sign_up and three logins
  expect(after).toEqual([
    ['session_revoked', 'success', 'logout'],
    ['password_changed', 'failure', 'wrong current password'],
    ['password_changed', 'success', null],
    ['session_revoked', 'success', 'password_changed'],
    ['session_revoked', 'success', 'password_changed'],
  ]);
});

test('role changes and rate-limit hits are recorded', async () => {
  const { server } = await start();
  const { client: admin, user: adminUser } = await createUser(server, { role: 'admin' });
  const { user } = await createUser(server);
  await admin.mutate('admin.setRole', { userId: user.id, role: 'admin' });
  const attacker = createClient(server.url, server.config.appOrigin);
  for (let i = 0; i <= RATE_LIMITS.passwordPerIpAndAccount.points; i++) {
    await attacker.mutate('auth.login', { email: 'target@example.com', password: 'guess number one' });
  }
  const events = eventsOf(server);
  expect(events.find((e) => e.type === 'role_changed')).toMatchObject({
    userId: user.id,
    detail: `user → admin by ${adminUser.id}`,
  });
  expect(events.at(-1)).toMatchObject({ type: 'rate_limited', outcome: 'failure', detail: 'auth.login' });
});

test('no event holds a password, a token or a hash', async () => {
  const { server } = await start();
  const { client, email } = await createUser(server);
  await client.mutate('auth.login', { email, password: 'wrong password' });
  await client.mutate('auth.refresh');
  await client.mutate('auth.logout');
  const all = JSON.stringify(eventsOf(server));
  for (const secret of [PASSWORD, 'wrong password', client.cookie(ACCESS_COOKIE) ?? 'eyJ', '$argon2id']) {
    expect(all).not.toContain(secret);
  }
  expect(all).not.toContain('eyJ'); // no JWT, not even a fragment of one
});

test('admin.auditEvents pages newest first and filters by type and user; others get 403', async () => {
  const { server } = await start();
  const { client: admin } = await createUser(server, { role: 'admin' });
  const { client: user, user: target, email } = await createUser(server);
  await user.mutate('auth.login', { email, password: PASSWORD });
  expect((await user.query('admin.auditEvents', {})).status).toBe(403);

  type Page = { events: { id: number; type: string; userId: string | null }[]; nextCursor: number | null };
  const first = (await admin.query<Page>('admin.auditEvents', { limit: 2 })).body.result!.data;
  expect(first.events).toHaveLength(2);
  expect(first.events[0]!.id).toBeGreaterThan(first.events[1]!.id);
  const second = (await admin.query<Page>('admin.auditEvents', { limit: 2, before: first.nextCursor })).body.result!
    .data;
  expect(second.events[0]!.id).toBeLessThan(first.events[1]!.id);

  const logins = (await admin.query<Page>('admin.auditEvents', { type: 'login', userId: target.id })).body.result!.data;
  expect(logins.events.map((e) => [e.type, e.userId])).toEqual([['login', target.id]]);
  expect((await admin.query('admin.auditEvents', { limit: 1000 })).status).toBe(400);
});

test('pruning drops events older than the retention period', async () => {
  const { server } = await start();
  await createUser(server);
  const now = new Date();
  expect(server.services.auditLog.prune(new Date(now.getTime() + 89 * 86_400_000), 90)).toBe(0);
  expect(server.services.auditLog.prune(new Date(now.getTime() + 91 * 86_400_000), 90)).toBe(1);
  expect(eventsOf(server)).toEqual([]);
});
