// Refresh-token families over real HTTP: rotation, reuse detection, the multi-tab
// grace window, expiry, and what a refresh after sign-out gets.
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../../../server/auth/cookies.ts';
import { type TestClient, createClient } from '../../helpers/client.ts';
import { createClock, type startServer, startServersPerTest } from '../../helpers/server.ts';
import { createUser } from '../../helpers/users.ts';

type Server = Awaited<ReturnType<typeof startServer>>;
const start = startServersPerTest();

async function setup(vars: Record<string, string> = {}) {
  const clock = createClock();
  const server = await start({ vars, clock });
  const { client, user } = await createUser(server, { clock });
  return { server, clock, client, user };
}

/** A second "device" holding exactly the given cookies. */
function clientWith(server: Server, cookies: { access?: string; refresh?: string }) {
  const other = createClient(server.url, server.config.appOrigin);
  if (cookies.access) other.setCookie(ACCESS_COOKIE, cookies.access);
  if (cookies.refresh) other.setCookie(REFRESH_COOKIE, cookies.refresh, REFRESH_COOKIE_PATH);
  return other;
}

const liveTokens = async (server: Server) =>
  (await server.db.select().from(server.db.tables.refreshTokens)).filter((t) => !t.usedAt);
const allSessions = (server: Server) => server.db.select().from(server.db.tables.sessions);

const authErrorOf = (res: Awaited<ReturnType<TestClient['query']>>) => res.body.error?.data.authError;

test('refresh rotates the refresh token and issues a new access token', async () => {
  const { client, clock, server } = await setup();
  const [access, refresh] = [client.cookie(ACCESS_COOKIE), client.cookie(REFRESH_COOKIE)];
  clock.advance(60);
  const res = await client.mutate('auth.refresh');
  expect(res.status).toBe(200);
  expect(client.cookie(REFRESH_COOKIE)).not.toBe(refresh);
  expect(client.cookie(ACCESS_COOKIE)).not.toBe(access);
  expect((await client.query('user.me')).status).toBe(200);
  // Stored as a hash only: the token itself is nowhere in the database.
  const { refreshTokens } = server.db.tables;
  const stored = await server.db.select({ hash: refreshTokens.tokenHash }).from(refreshTokens);
  expect(stored.map((r) => r.hash)).not.toContain(client.cookie(REFRESH_COOKIE));
  expect(JSON.stringify(res.body)).not.toContain(client.cookie(REFRESH_COOKIE)!);
});

test('an expired access token is still sent, answered expired_token, and a refresh brings the session back', async () => {
  const { client, clock, server } = await setup();
  clock.advance(server.config.jwt.accessTokenTtl + 60);
  const expired = await client.query('user.me');
  expect(expired.status).toBe(401);
  expect(authErrorOf(expired)).toBe('expired_token');
  expect((await client.mutate('auth.refresh')).status).toBe(200);
  expect((await client.query('user.me')).status).toBe(200);
});

test('sign-out with an expired access token asks for a refresh, then ends the session', async () => {
  const { client, clock, server } = await setup();
  const refresh = client.cookie(REFRESH_COOKIE)!;
  clock.advance(server.config.jwt.accessTokenTtl + 60);
  expect(authErrorOf(await client.mutate('auth.logout'))).toBe('expired_token');
  await client.mutate('auth.refresh');
  expect((await client.mutate('auth.logout')).status).toBe(200);
  expect(authErrorOf(await clientWith(server, { refresh }).mutate('auth.refresh'))).toBe('revoked_session');
});

test('reusing a rotated refresh token after the grace window revokes the whole session', async () => {
  const { client, clock, server } = await setup({ REFRESH_REUSE_GRACE: '5' });
  const stolen = client.cookie(REFRESH_COOKIE)!;
  await client.mutate('auth.refresh');
  const newest = { access: client.cookie(ACCESS_COOKIE)!, refresh: client.cookie(REFRESH_COOKIE)! };

  clock.advance(6);
  const attacker = clientWith(server, { refresh: stolen });
  const replay = await attacker.mutate('auth.refresh');
  expect(replay.status).toBe(401);
  expect(authErrorOf(replay)).toBe('revoked_session');
  expect(attacker.cookie(REFRESH_COOKIE)).toBeUndefined(); // cleared with Max-Age=0

  // The legitimate holder's newest refresh token and live access token die too.
  const victim = clientWith(server, newest);
  const me = await victim.query('user.me');
  expect(me.status).toBe(401);
  expect(authErrorOf(me)).toBe('revoked_session');
  const refresh = await victim.mutate('auth.refresh');
  expect(authErrorOf(refresh)).toBe('revoked_session');

  const [session] = await allSessions(server);
  expect(session?.revokedReason).toBe('reuse_detected');
});

test('within the grace window a just-rotated token gets a fresh access token and the same successor again', async () => {
  const { client, clock, server } = await setup({ REFRESH_REUSE_GRACE: '5' });
  const old = client.cookie(REFRESH_COOKIE)!;
  await client.mutate('auth.refresh');
  const successor = client.cookie(REFRESH_COOKIE)!;
  clock.advance(2);
  const otherTab = clientWith(server, { refresh: old });
  const res = await otherTab.mutate('auth.refresh');
  expect(res.status).toBe(200);
  expect(otherTab.cookie(REFRESH_COOKIE)).toBe(successor);
  expect((await otherTab.query('user.me')).status).toBe(200);
  // The session lives on, with exactly one live refresh token.
  expect(await liveTokens(server)).toHaveLength(1);
  expect((await client.mutate('auth.refresh')).status).toBe(200);
  expect(await liveTokens(server)).toHaveLength(1);
  const [event] = (await server.services.auditLog.list({ limit: 1, type: 'refresh_grace_used' })).events;
  expect(event).toMatchObject({ outcome: 'success', detail: '1 of 3' });
});

test('a refresh whose response was lost is retried and recovers: no false reuse alarm 15 minutes later', async () => {
  const { client, clock, server } = await setup();
  const old = client.cookie(REFRESH_COOKIE)!;
  // The first response never reaches the browser: it keeps the old token and retries.
  await clientWith(server, { refresh: old }).mutate('auth.refresh');
  clock.advance(1);
  expect((await client.mutate('auth.refresh')).status).toBe(200);
  expect(client.cookie(REFRESH_COOKIE)).not.toBe(old);
  clock.advance(server.config.jwt.accessTokenTtl);
  const later = await client.mutate('auth.refresh');
  expect(later.status, 'the old code sent no successor, so this refresh looked like theft').toBe(200);
  expect((await client.query('user.me')).status).toBe(200);
  expect((await allSessions(server))[0]?.revokedAt).toBeNull();
});

test('grace answers are bounded: replaying a just-rotated token again and again ends the session', async () => {
  const { client, server } = await setup();
  const old = client.cookie(REFRESH_COOKIE)!;
  await client.mutate('auth.refresh');
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await clientWith(server, { refresh: old }).mutate('auth.refresh')).status);
  expect(statuses).toEqual([200, 200, 200, 401, 401]);
  expect((await allSessions(server))[0]?.revokedReason).toBe('reuse_detected');
  expect((await server.services.auditLog.list({ limit: 10, type: 'refresh_grace_used' })).events).toHaveLength(3);
  expect(authErrorOf(await client.query('user.me'))).toBe('revoked_session');
});

test('expiry comes before grace: a token rotated just before SESSION_MAX_AGE yields nothing after it', async () => {
  const { client, clock, server } = await setup({ SESSION_MAX_AGE: '3600', REFRESH_REUSE_GRACE: '10' });
  clock.advance(3600 - 3);
  const old = client.cookie(REFRESH_COOKIE)!;
  expect((await client.mutate('auth.refresh')).status).toBe(200);
  clock.advance(5);
  const replay = await clientWith(server, { refresh: old }).mutate('auth.refresh');
  expect(replay.status).toBe(401);
  expect(authErrorOf(replay)).toBe('invalid_token');
  expect(replay.setCookies.find((c) => c.name === ACCESS_COOKIE)?.value).toBe('');
});

test('two tabs refreshing with the same token at once both succeed and leave one live successor (grace, in one process; test/server/auth/concurrency.test.ts races two)', async () => {
  const { client, server } = await setup();
  const token = client.cookie(REFRESH_COOKIE)!;
  const tabs = [clientWith(server, { refresh: token }), clientWith(server, { refresh: token })];
  const results = await Promise.all(tabs.map((tab) => tab.mutate('auth.refresh')));
  expect(results.map((r) => r.status)).toEqual([200, 200]);
  expect(await liveTokens(server)).toHaveLength(1);
  const [session] = await allSessions(server);
  expect(session?.revokedAt).toBeNull();
  for (const tab of tabs) expect((await tab.query('user.me')).status).toBe(200);
});

test('a session expires after REFRESH_TOKEN_TTL idle', async () => {
  const { client, clock, server } = await setup({ REFRESH_TOKEN_TTL: '3600' });
  const refresh = client.cookie(REFRESH_COOKIE)!;
  clock.advance(3600);
  // The browser has dropped both cookies by now (Max-Age)...
  expect(authErrorOf(await client.mutate('auth.refresh'))).toBe('missing_token');
  // ...and the server refuses the token even if someone kept it.
  const res = await clientWith(server, { refresh }).mutate('auth.refresh');
  expect(res.status).toBe(401);
  expect(authErrorOf(res)).toBe('invalid_token');
  expect(res.setCookies.map((c) => c.maxAge)).toEqual([0, 0]);
});

test('refreshing slides the idle expiry but never past SESSION_MAX_AGE', async () => {
  const { client, clock } = await setup({ REFRESH_TOKEN_TTL: '3600', SESSION_MAX_AGE: '7200' });
  for (let i = 0; i < 3; i++) {
    clock.advance(3000);
    const res = await client.mutate('auth.refresh');
    if (i < 2) expect(res.status, `refresh ${i}`).toBe(200);
    else expect(res.status, 'after 9000 s, past the absolute limit').toBe(401);
  }
});

test('the refresh cookie lifetime never outlives the session', async () => {
  const { client, clock } = await setup({ REFRESH_TOKEN_TTL: '3600', SESSION_MAX_AGE: '4000' });
  clock.advance(1000);
  const res = await client.mutate('auth.refresh');
  const refresh = res.setCookies.find((c) => c.name === REFRESH_COOKIE);
  expect(refresh?.maxAge).toBe(3000);
});

test('refresh after logout is refused and the session stays ended', async () => {
  const { client, server } = await setup();
  const refresh = client.cookie(REFRESH_COOKIE)!;
  expect((await client.mutate('auth.logout')).status).toBe(200);
  const res = await clientWith(server, { refresh }).mutate('auth.refresh');
  expect(res.status).toBe(401);
  expect(authErrorOf(res)).toBe('revoked_session');
});

test('refresh with no cookie or an unknown token is a 401 that clears cookies', async () => {
  const { server } = await setup();
  const none = await createClient(server.url, server.config.appOrigin).mutate('auth.refresh');
  expect(none.status).toBe(401);
  expect(authErrorOf(none)).toBe('missing_token');
  const unknown = await clientWith(server, { refresh: 'x'.repeat(43) }).mutate('auth.refresh');
  expect(unknown.status).toBe(401);
  expect(authErrorOf(unknown)).toBe('invalid_token');
  expect(unknown.setCookies.map((c) => [c.name, c.maxAge])).toEqual([
    [ACCESS_COOKIE, 0],
    [REFRESH_COOKIE, 0],
  ]);
});

test('an access token is not accepted as a refresh token, nor a refresh token as an access token', async () => {
  const { client, server } = await setup();
  const asRefresh = await clientWith(server, { refresh: client.cookie(ACCESS_COOKIE)! }).mutate('auth.refresh');
  expect(asRefresh.status).toBe(401);
  expect(authErrorOf(asRefresh)).toBe('invalid_token');
  const asAccess = await clientWith(server, { access: client.cookie(REFRESH_COOKIE)! }).query('user.me');
  expect(asAccess.status).toBe(401);
  expect(authErrorOf(asAccess)).toBe('invalid_token');
});

test('the session records who refreshed and when', async () => {
  const { client, clock, server } = await setup();
  clock.advance(120);
  await client.mutate('auth.refresh');
  const [session] = await allSessions(server);
  expect(session?.lastUsedAt.getTime()).toBe(clock.now().getTime());
  expect(session?.userAgent).toBe('test-client');
  const { refreshTokens } = server.db.tables;
  const tokens = await server.db.select().from(refreshTokens).where(eq(refreshTokens.sessionId, session!.id));
  const [first, second] = tokens.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  expect(first?.replacedById).toBe(second?.id);
});
