// Where a session could outlive what should end it, or be swapped for another: cookies
// planted by a sibling subdomain, a browser signing in again, a sign-in racing a password
// change, an admin ending every session, and token rows that must not grow forever.
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../../../server/auth/cookies.ts';
import { CredentialsChangedError } from '../../../server/auth/sessions.ts';
import { createClient, randomIp } from '../../helpers/client.ts';
import { createClock, type startServer, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

type Server = Awaited<ReturnType<typeof startServer>>;
const start = startServersPerTest();
const CONFLICT = 'Conflicting session cookies were sent; sign in again';

/** A request with a Cookie header written by hand: a jar cannot hold one name twice. */
async function sendWithCookies(server: Server, path: string, cookie: string, method: 'GET' | 'POST' = 'POST') {
  const res = await fetch(`${server.url}/trpc/${path}`, {
    method,
    headers: {
      origin: server.config.appOrigin,
      'content-type': 'application/json',
      'x-forwarded-for': randomIp(),
      cookie,
    },
    body: method === 'POST' ? '{}' : undefined,
  });
  const body = (await res.json()) as { error?: { message: string; data: { authError: string | null } } };
  return { status: res.status, body, setCookies: res.headers.getSetCookie() };
}

const liveTokenCount = async (server: Server) =>
  (await server.db.select().from(server.db.tables.refreshTokens)).filter((t) => !t.usedAt).length;

test('two refresh cookies (one planted for the parent domain) are refused, nothing rotates, and both spellings are cleared', async () => {
  const server = await start({ vars: { APP_ORIGIN: 'https://app.example.com' } });
  const victim = await createUser(server);
  const attacker = await createUser(server);
  const planted = attacker.client.cookie(REFRESH_COOKIE)!;
  const own = victim.client.cookie(REFRESH_COOKIE)!;
  // The browser sends the older (planted) one first; the old server took the first.
  for (const order of [
    [planted, own],
    [own, planted],
  ]) {
    const cookie = order.map((token) => `${REFRESH_COOKIE}=${token}`).join('; ');
    const res = await sendWithCookies(server, 'auth.refresh', cookie);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ message: CONFLICT, data: { authError: 'invalid_token' } });
    // Planted for the parent domain, or for this very host with Domain=: both are cleared.
    for (const domain of ['example.com', 'app.example.com']) {
      expect(res.setCookies).toContain(
        `${REFRESH_COOKIE}=; Max-Age=0; Domain=${domain}; Path=${REFRESH_COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict`,
      );
    }
    expect(res.setCookies.some((c) => c.startsWith(`${REFRESH_COOKIE}=; Max-Age=0; Path=`))).toBe(true);
  }
  expect(await liveTokenCount(server), 'neither token was rotated').toBe(2);
});

test('two access cookies are refused on any signed-in call', async () => {
  const server = await start();
  const a = await createUser(server);
  const b = await createUser(server);
  const cookie = `${ACCESS_COOKIE}=${a.client.cookie(ACCESS_COOKIE)}; ${ACCESS_COOKIE}=${b.client.cookie(ACCESS_COOKIE)}`;
  const res = await sendWithCookies(server, 'user.me', cookie, 'GET');
  expect(res.status).toBe(401);
  expect(res.body.error).toMatchObject({ message: CONFLICT, data: { authError: 'invalid_token' } });
});

test("a refresh cookie of another session than the browser's access cookie names is refused, and not rotated", async () => {
  const server = await start();
  const victim = await createUser(server);
  const attacker = await createUser(server);
  const cookie = `${ACCESS_COOKIE}=${victim.client.cookie(ACCESS_COOKIE)}; ${REFRESH_COOKIE}=${attacker.client.cookie(REFRESH_COOKIE)}`;
  const res = await sendWithCookies(server, 'auth.refresh', cookie);
  expect(res.status).toBe(401);
  expect(res.body.error?.data.authError).toBe('invalid_token');
  expect(await liveTokenCount(server)).toBe(2);
  // Its owner can still use it: refusing a planted token must not become a way to end sessions.
  expect((await attacker.client.mutate('auth.refresh')).status).toBe(200);
});

test('signing in again from a browser that holds a session ends that session', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const { client, email, user } = await createUser(server, { clock });
  const oldRefresh = client.cookie(REFRESH_COOKIE)!;
  clock.advance(server.config.jwt.accessTokenTtl + 1); // an expired access token still names the session
  expect((await client.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  const { sessions } = server.db.tables;
  const rows = await server.db.select().from(sessions).where(eq(sessions.userId, user.id));
  expect(rows.map((r) => r.revokedReason ?? 'live').sort()).toEqual(['live', 'signed_in_again']);
  const stale = createClient(server.url, server.config.appOrigin, clock);
  stale.setCookie(REFRESH_COOKIE, oldRefresh, REFRESH_COOKIE_PATH);
  expect((await stale.mutate('auth.refresh')).body.error?.data.authError).toBe('revoked_session');
  expect((await client.query('user.me')).status).toBe(200);
});

test('a sign-in that checked the old password cannot start a session after the password changed', async () => {
  const server = await start();
  const { client, email, user } = await createUser(server);
  const verified = await server.services.accounts.verifyCredentials(email, PASSWORD, new Date());
  expect(verified).not.toBeNull();
  // The password changes between the sign-in's check and its session.
  const changed = await client.mutate('auth.changePassword', {
    currentPassword: PASSWORD,
    newPassword: 'a brand new passphrase',
  });
  expect(changed.status).toBe(200);
  await expect(
    server.services.sessions.createSession(user.id, null, new Date(), verified!.passwordHash),
  ).rejects.toThrow(CredentialsChangedError);
  const { sessions } = server.db.tables;
  expect(await server.db.select().from(sessions).where(eq(sessions.userId, user.id))).toHaveLength(1);
});

test('racing sign-ins with the old password never keep a session once a password change has finished', async () => {
  // Real hashing cost, so the change takes long enough for sign-ins to land inside it.
  const server = await start({ vars: { ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' } });
  const { client, email } = await createUser(server);
  let password = PASSWORD;
  let raced = 0;
  for (let trial = 0; trial < 16; trial++) {
    const next = `new passphrase number ${trial}`;
    const racer = createClient(server.url, server.config.appOrigin);
    // Sign-ins start at staggered moments across the change: some check the old hash while
    // the new one is being computed, and finish after the change has ended other sessions.
    const [change, login] = await Promise.all([
      client.mutate('auth.changePassword', { currentPassword: password, newPassword: next }),
      new Promise((resolve) => setTimeout(resolve, trial * 4)).then(() =>
        racer.mutate('auth.login', { email, password }),
      ),
    ]);
    expect(change.status).toBe(200);
    password = next;
    if (login.status === 200) {
      raced++;
      expect((await racer.query('user.me')).status, `trial ${trial}`).toBe(401);
    }
  }
  expect(raced, 'some sign-ins checked the old password in time').toBeGreaterThan(0);
});

test('admin.revokeUserSessions ends every session of the user at once, and is audited', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  const laptop = createClient(server.url, server.config.appOrigin);
  await laptop.mutate('auth.login', { email: target.email, password: PASSWORD });
  const res = await admin.client.mutate<{ endedSessions: number }>('admin.revokeUserSessions', {
    userId: target.user.id,
  });
  expect(res.body.result?.data).toEqual({ endedSessions: 2 });
  for (const device of [target.client, laptop]) {
    expect((await device.query('user.me')).body.error?.data.authError).toBe('revoked_session');
  }
  const events = await server.services.auditLog.list({ limit: 10, userId: target.user.id, type: 'session_revoked' });
  expect(events.events.map((e) => e.detail)).toEqual([
    `revoked by admin ${admin.user.id}`,
    `revoked by admin ${admin.user.id}`,
  ]);
  const plainUser = await createUser(server);
  expect((await plainUser.client.mutate('admin.revokeUserSessions', { userId: admin.user.id })).status).toBe(403);
  expect((await admin.client.mutate('admin.revokeUserSessions', { userId: 'nobody' })).status).toBe(404);
});

test('used refresh tokens are pruned once expired, so a long-lived session keeps a bounded number of rows', async () => {
  const clock = createClock();
  const server = await start({ clock, vars: { REFRESH_TOKEN_TTL: '3600' } });
  const { client, user } = await createUser(server, { clock });
  for (let i = 0; i < 10; i++) {
    clock.advance(900);
    expect((await client.mutate('auth.refresh')).status).toBe(200);
  }
  const { refreshTokens, sessions, users } = server.db.tables;
  const sessionRows = () =>
    server.db
      .select()
      .from(refreshTokens)
      .innerJoin(sessions, eq(refreshTokens.sessionId, sessions.id))
      .where(eq(sessions.userId, user.id));
  expect(await sessionRows()).toHaveLength(11);
  await server.services.sessions.prune(clock.now());
  // Tokens issued within the last hour (REFRESH_TOKEN_TTL) could still be presented: kept for reuse detection.
  expect(await sessionRows()).toHaveLength(5);
  expect((await client.mutate('auth.refresh')).status).toBe(200);
  expect(await server.db.select().from(users).where(eq(users.id, user.id))).toHaveLength(1);
});
