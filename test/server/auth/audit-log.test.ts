// The security audit log: every flow writes the events an auditor expects, with who,
// from where and how it went, and never a password or token.
import { expect, onTestFinished, test, vi } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../../../server/auth/cookies.ts';
import { RATE_LIMITED_AUDIT_WINDOW_SECONDS, createAuditLog } from '../../../server/auth/audit-log.ts';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { createClient } from '../../helpers/client.ts';
import { openTestDatabase } from '../../helpers/database.ts';
import { nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

type Server = Awaited<ReturnType<typeof start>>['server'];
const startServer = startServersPerTest();
async function start(vars: Record<string, string> = {}) {
  const clock = createClock();
  return { server: await startServer({ vars, clock }), clock };
}
const eventsOf = (server: Server) => {
  const { auditEvents } = server.db.tables;
  return server.db.select().from(auditEvents).orderBy(auditEvents.id);
};
const summary = async (server: Server) => (await eventsOf(server)).map((e) => [e.type, e.outcome, e.detail]);

test('sign-up and sign-in record who, which session, from where and with what', async () => {
  const { server } = await start();
  const ip = '2001:db8:1:2::1';
  const device = () => createClient(server.url, server.config.appOrigin, undefined, ip);
  const email = 'audited@example.com';
  await device().mutate('auth.register', { email });
  const token = tokenFromLink((await nextMailTo(server, email)).link);
  const signedUp = await device().mutate<{ user: { id: string } }>('auth.completeRegistration', {
    token,
    password: PASSWORD,
  });
  const userId = signedUp.body.result!.data.user.id;
  await device().mutate('auth.login', { email, password: 'wrong password' });
  await device().mutate('auth.login', { email, password: PASSWORD });
  // The worker's mail_sent row is the mail tests' business.
  const [requested, signUp, failure, success] = (await eventsOf(server)).filter((e) => e.type !== 'mail_sent');
  // Asked for by an address with no account yet: nobody to name.
  expect(requested).toMatchObject({
    type: 'sign_up_requested',
    outcome: 'success',
    userId: null,
    ip: '2001:db8:1:2::/64',
    detail: 'new address',
  });
  expect(signUp).toMatchObject({
    type: 'sign_up',
    outcome: 'success',
    userId,
    ip: '2001:db8:1:2::/64',
    userAgent: 'test-client',
  });
  expect(signUp?.sessionId).toBeTruthy();
  expect(failure).toMatchObject({
    type: 'login',
    outcome: 'failure',
    userId: null,
    ip: '2001:db8:1:2::/64',
    detail: `email=${email}`,
  });
  expect(success).toMatchObject({ type: 'login', outcome: 'success', userId, ip: '2001:db8:1:2::/64' });
  expect(success?.sessionId).toBeTruthy();
  expect(success?.sessionId).not.toBe(signUp?.sessionId);
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
  expect((await summary(server)).slice(1)).toEqual([
    ['refresh_reuse_detected', 'failure', null],
    ['session_revoked', 'success', 'reuse_detected'],
  ]);
  expect((await eventsOf(server)).at(-1)?.userId).toBe(user.id);
});

test('logout, session revocation and password change record each ended session with its reason', async () => {
  const { server } = await start();
  const { client, email } = await createUser(server);
  const signIn = async () => {
    const device = createClient(server.url, server.config.appOrigin);
    await device.mutate('auth.login', { email, password: PASSWORD });
    return device;
  };
  const leaving = await signIn();
  await signIn();
  await leaving.mutate('auth.logout');
  // A fresh sign-in is a recent password proof: ending the other sessions needs one.
  expect((await client.mutate('session.revokeOthers')).status).toBe(200);
  await signIn();
  await signIn();
  await client.mutate('auth.changePassword', { currentPassword: 'not it', newPassword: 'a brand new password' });
  await client.mutate('auth.changePassword', { currentPassword: PASSWORD, newPassword: 'a brand new password' });
  expect(await summary(server)).toEqual([
    ['login', 'success', null],
    ['login', 'success', null],
    ['login', 'success', null],
    ['session_revoked', 'success', 'logout'],
    ['session_revoked', 'success', 'revoked'],
    ['login', 'success', null],
    ['login', 'success', null],
    ['password_changed', 'failure', 'wrong current password'],
    ['session_revoked', 'success', 'password_changed'],
    ['session_revoked', 'success', 'password_changed'],
    ['password_changed', 'success', null],
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
  const events = await eventsOf(server);
  expect(events.find((e) => e.type === 'role_changed')).toMatchObject({
    userId: user.id,
    detail: `user → admin by ${adminUser.id}`,
  });
  expect(events.at(-1)).toMatchObject({ type: 'rate_limited', outcome: 'failure', detail: 'auth.login' });
});

/** `calls` logins in batches of 10 from one address, all on one account. */
async function loginFlood(server: Server, ip: string, calls: number) {
  const batch = 10;
  const paths = Array.from({ length: batch }, () => 'auth.login').join(',');
  const input = Object.fromEntries(
    Array.from({ length: batch }, (_, i) => [i, { email: 'flooded@example.com', password: 'wrong password' }]),
  );
  for (let sent = 0; sent < calls; sent += batch) {
    const res = await fetch(`${server.url}/trpc/${paths}?batch=1`, {
      method: 'POST',
      headers: { origin: server.config.appOrigin, 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(input),
    });
    await res.arrayBuffer();
  }
}
const rateLimitedRows = async (server: Server) => (await eventsOf(server)).filter((e) => e.type === 'rate_limited');

test('a flood of rate-limited calls from one address adds a handful of rows, then one with the count', async () => {
  const { server, clock } = await start();
  const ip = '2001:db8:f100:d::1';
  await loginFlood(server, ip, 2000);
  const refused = 2000 - RATE_LIMITS.passwordPerIpAndAccount.points;
  expect(await rateLimitedRows(server)).toHaveLength(1);
  expect((await eventsOf(server)).length).toBeLessThanOrEqual(RATE_LIMITS.passwordPerIpAndAccount.points + 1);

  // The next hit after the window records what the window held, and opens a new one.
  clock.advance(RATE_LIMITED_AUDIT_WINDOW_SECONDS);
  await loginFlood(server, ip, 10);
  const [first, summary, next] = await rateLimitedRows(server);
  expect(first).toMatchObject({ detail: 'auth.login', ip: '2001:db8:f100:d::/64' });
  expect(summary).toMatchObject({ type: 'rate_limited', outcome: 'failure', ip: '2001:db8:f100:d::/64' });
  expect(summary?.detail).toBe(`auth.login (${refused - 1} more since ${first!.at.toISOString()})`);
  expect(next).toMatchObject({ detail: 'auth.login' });
  expect(await rateLimitedRows(server)).toHaveLength(3);
});

test('a count still open when the window ends is written by the hourly prune', async () => {
  const { server } = await start();
  await loginFlood(server, '2001:db8:f100:e::1', 20);
  const later = new Date(Date.now() + RATE_LIMITED_AUDIT_WINDOW_SECONDS * 1000);
  await server.services.auditLog.prune(later, server.config.auditRetentionDays);
  expect((await rateLimitedRows(server)).map((e) => e.detail)).toEqual([
    'auth.login',
    expect.stringMatching(/^auth\.login \(14 more since .+\)$/),
  ]);
});

test('rate-limit counts are kept for a bounded number of addresses; an evicted count is written', async () => {
  const db = await openTestDatabase();
  onTestFinished(() => db.close());
  const { auditEvents } = db.tables;
  const audit = createAuditLog(db, { maxSources: 100 });
  const at = new Date();
  for (let i = 0; i < 1000; i++) {
    for (let hit = 0; hit < 3; hit++) {
      await audit.record({
        at,
        type: 'rate_limited',
        outcome: 'failure',
        ip: `198.51.${i >> 8}.${i & 255}`,
        detail: 'auth.login',
      });
    }
  }
  const rows = () => db.select().from(auditEvents);
  // An evicted count is written in the background (outside any request): the last may still be on its way.
  await vi.waitFor(async () => expect(await rows()).toHaveLength(1000 + 900)); // a row per address, a count per evicted address
  expect((await rows()).filter((e) => e.detail === `auth.login (2 more since ${at.toISOString()})`)).toHaveLength(900);
  await audit.flush();
  expect(await rows()).toHaveLength(2000);
});

test('no event holds a password, a token or a hash', async () => {
  const { server } = await start();
  const { client, email } = await createUser(server);
  await client.mutate('auth.login', { email, password: 'wrong password' });
  await client.mutate('auth.refresh');
  await client.mutate('auth.logout');
  const all = JSON.stringify(await eventsOf(server));
  for (const secret of [PASSWORD, 'wrong password', client.cookie(ACCESS_COOKIE) ?? 'eyJ', '$argon2id']) {
    expect(all).not.toContain(secret);
  }
  expect(all).not.toContain('eyJ'); // no JWT, not even a fragment of one
});

test('admin.auditEvents pages newest first and filters by type and user; others get 403', async () => {
  const { server } = await start();
  const { client: admin } = await createUser(server, { role: 'admin' });
  const { client: user, user: target, email } = await createUser(server);
  await createClient(server.url, server.config.appOrigin).mutate('auth.login', { email, password: PASSWORD });
  // An event of another type on the same user, for the type filter to leave out.
  await user.mutate('auth.changePassword', { currentPassword: 'not it', newPassword: 'a brand new password' });
  expect((await user.query('admin.auditEvents', {})).status).toBe(403);

  type Page = { events: { id: number; type: string; userId: string | null }[]; nextCursor: number | null };
  const first = (await admin.query<Page>('admin.auditEvents', { limit: 2 })).body.result!.data;
  expect(first.events).toHaveLength(2);
  expect(first.events[0]!.id).toBeGreaterThan(first.events[1]!.id);
  const second = (await admin.query<Page>('admin.auditEvents', { limit: 2, before: first.nextCursor })).body.result!
    .data;
  expect(second.events[0]!.id).toBeLessThan(first.events[1]!.id);

  const logins = (await admin.query<Page>('admin.auditEvents', { type: 'login', userId: target.id })).body.result!.data;
  expect(logins.events.map((e) => [e.type, e.userId])).toEqual([
    ['login', target.id],
    ['login', target.id],
  ]);
  expect((await admin.query('admin.auditEvents', { limit: 1000 })).status).toBe(400);
});

test('pruning drops events older than the retention period', async () => {
  const { server } = await start();
  await createUser(server);
  const now = new Date();
  expect(await server.services.auditLog.prune(new Date(now.getTime() + 89 * 86_400_000), 90)).toBe(0);
  expect(await server.services.auditLog.prune(new Date(now.getTime() + 91 * 86_400_000), 90)).toBe(1);
  expect(await eventsOf(server)).toEqual([]);
});
