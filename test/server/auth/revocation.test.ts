// Access tokens die on the very next request after their session ends or their
// role changes, without waiting for expiry, and that survives a restart.
import { expect, test } from 'vitest';
import { ACCESS_COOKIE } from '../../../server/auth/cookies.ts';
import { createClient } from '../../helpers/client.ts';
import { startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';
import { sameKeyVars } from '../../helpers/config.ts';

type Server = Awaited<ReturnType<typeof start>>;
// Databases stay open: a test restarts a second server on the first one's.
const start = startServersPerTest({ closeDatabase: false });

/** The same access token, replayed from another client (as a thief would). */
function replay(server: Server, accessToken: string) {
  const thief = createClient(server.url, server.config.appOrigin);
  thief.setCookie(ACCESS_COOKIE, accessToken);
  return thief.query('user.me');
}

function expectRefused(res: Awaited<ReturnType<typeof replay>>, authError: string) {
  expect(res.status).toBe(401);
  expect(res.body.error?.data.authError).toBe(authError);
  expect(res.headers.get('www-authenticate')).toMatch(
    /^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/,
  );
}

test('after logout the access token is refused at once', async () => {
  const server = await start();
  const { client } = await createUser(server);
  const token = client.cookie(ACCESS_COOKIE)!;
  expect((await replay(server, token)).status).toBe(200); // cached as valid first
  await client.mutate('auth.logout');
  expectRefused(await replay(server, token), 'revoked_session');
});

test('session.revoke ends another device at once', async () => {
  const server = await start();
  const { client, email } = await createUser(server);
  const laptop = createClient(server.url, server.config.appOrigin);
  await laptop.mutate('auth.login', { email, password: PASSWORD });
  const sessions = await client.query<{ id: string; current: boolean }[]>('session.list');
  const other = sessions.body.result!.data.find((s) => !s.current)!;
  expect((await client.mutate('session.revoke', { id: other.id })).status).toBe(200);
  expectRefused(await laptop.query('user.me'), 'revoked_session');
  expect((await client.query('user.me')).status).toBe(200);
});

test('a password change ends every other session at once and keeps this one', async () => {
  const server = await start();
  const { client, email } = await createUser(server);
  const phone = createClient(server.url, server.config.appOrigin);
  await phone.mutate('auth.login', { email, password: PASSWORD });
  const res = await client.mutate('auth.changePassword', {
    currentPassword: PASSWORD,
    newPassword: 'a new strong password',
  });
  expect(res.status).toBe(200);
  expect(res.body.result?.data).toEqual({ endedSessions: 1 });
  expectRefused(await phone.query('user.me'), 'revoked_session');
  expect((await client.query('user.me')).status).toBe(200);
  expect(
    (await createClient(server.url, server.config.appOrigin).mutate('auth.login', { email, password: PASSWORD }))
      .status,
  ).toBe(401);
});

test('a wrong current password changes nothing', async () => {
  const server = await start();
  const { client } = await createUser(server);
  const res = await client.mutate('auth.changePassword', {
    currentPassword: 'not my password',
    newPassword: 'a new strong password',
  });
  expect(res.status).toBe(400);
  expect(res.body.error?.message).toBe('The current password is not correct');
});

test('after a demotion the old admin token is refused as expired, and a refresh carries the new role', async () => {
  const server = await start();
  const { client: admin } = await createUser(server, { role: 'admin' });
  const { client: target, user } = await createUser(server, { role: 'admin' });
  expect((await target.query('admin.listUsers')).status).toBe(200);

  expect((await admin.mutate('admin.setRole', { userId: user.id, role: 'user' })).status).toBe(200);

  const stale = await target.query('admin.listUsers');
  expect(stale.status).toBe(401);
  expect(stale.body.error?.data.authError).toBe('expired_token');
  expect(stale.headers.get('www-authenticate')).toContain('expired');
  expect((await target.mutate('auth.refresh')).status).toBe(200);
  const after = await target.query('admin.listUsers');
  expect(after.status).toBe(403);
  expect(after.body.error?.data.authError).toBe('insufficient_permission');
  expect(after.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
});

test('a promotion takes effect after one refresh', async () => {
  const server = await start();
  const { client: admin } = await createUser(server, { role: 'admin' });
  const { client, user } = await createUser(server);
  expect((await client.query('admin.listUsers')).status).toBe(403);
  await admin.mutate('admin.setRole', { userId: user.id, role: 'admin' });
  expect((await client.query('admin.listUsers')).body.error?.data.authError).toBe('expired_token');
  await client.mutate('auth.refresh');
  expect((await client.query('admin.listUsers')).status).toBe(200);
});

test('revocations and role changes survive a restart', async () => {
  const first = await start();
  const { client: admin } = await createUser(first, { role: 'admin' });
  const { client: loggedOut } = await createUser(first);
  const { client: demoted, user } = await createUser(first, { role: 'admin' });
  const loggedOutToken = loggedOut.cookie(ACCESS_COOKIE)!;
  const demotedToken = demoted.cookie(ACCESS_COOKIE)!;
  await loggedOut.mutate('auth.logout');
  await admin.mutate('admin.setRole', { userId: user.id, role: 'user' });

  const second = await start({ db: first.db, vars: sameKeyVars(first.config) });
  expectRefused(await replay(second, loggedOutToken), 'revoked_session');
  const thief = createClient(second.url, second.config.appOrigin);
  thief.setCookie(ACCESS_COOKIE, demotedToken);
  expect((await thief.query('admin.listUsers')).body.error?.data.authError).toBe('expired_token');
  // Someone else's untouched token still works on the new process.
  expect((await replay(second, admin.cookie(ACCESS_COOKIE)!)).status).toBe(200);
});

test('the last admin cannot demote themselves', async () => {
  const server = await start();
  const { client, user } = await createUser(server, { role: 'admin' });
  const res = await client.mutate('admin.setRole', { userId: user.id, role: 'user' });
  expect(res.status).toBe(400);
  expect(res.body.error?.message).toBe('The last admin cannot lose the admin role');
});
