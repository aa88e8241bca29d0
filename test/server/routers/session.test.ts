// session.* and admin.* procedures, over real HTTP.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient } from '../../helpers/client.ts';
import { startServer } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  userAgent: string | null;
  current: boolean;
}

test('session.list shows the live sessions with the current one marked', async () => {
  const { client, email } = await createUser(server);
  await createClient(server.url, server.config.appOrigin).mutate('auth.login', { email, password: PASSWORD });
  const res = await client.query<SessionView[]>('session.list');
  const list = res.body.result!.data;
  expect(list).toHaveLength(2);
  expect(list.filter((s) => s.current)).toHaveLength(1);
  expect(Object.keys(list[0]!).sort()).toEqual(['createdAt', 'current', 'id', 'lastUsedAt', 'userAgent']);
});

test("session.revoke cannot end another user's session", async () => {
  const { client: alice } = await createUser(server);
  const { client: bob } = await createUser(server);
  const bobSession = (await bob.query<SessionView[]>('session.list')).body.result!.data[0]!;
  const res = await alice.mutate('session.revoke', { id: bobSession.id });
  expect(res.status).toBe(404);
  expect((await bob.query('user.me')).status).toBe(200);
});

test('session.revoke of the current session signs this client out', async () => {
  const { client } = await createUser(server);
  const current = (await client.query<SessionView[]>('session.list')).body.result!.data[0]!;
  const res = await client.mutate('session.revoke', { id: current.id });
  expect(res.status).toBe(200);
  expect(res.setCookies.every((c) => c.maxAge === 0)).toBe(true);
  expect((await client.query('user.me')).status).toBe(401);
});

test('session.revokeOthers ends every session but this one', async () => {
  const { client, email } = await createUser(server);
  for (let i = 0; i < 2; i++) {
    await createClient(server.url, server.config.appOrigin).mutate('auth.login', { email, password: PASSWORD });
  }
  const res = await client.mutate('session.revokeOthers');
  expect(res.body.result?.data).toEqual({ endedSessions: 2 });
  const list = (await client.query<SessionView[]>('session.list')).body.result!.data;
  expect(list.map((s) => s.current)).toEqual([true]);
});

test('admin.listUsers returns public fields and the account state only, and only to admins', async () => {
  const { client: admin } = await createUser(server, { role: 'admin' });
  const { client: user } = await createUser(server);
  expect((await user.query('admin.listUsers')).status).toBe(403);
  const res = await admin.query<{ users: Record<string, unknown>[] }>('admin.listUsers');
  expect(res.status).toBe(200);
  for (const row of res.body.result!.data.users) {
    expect(Object.keys(row).sort()).toEqual([
      'createdAt',
      'disabledAt',
      'email',
      'emailVerifiedAt',
      'id',
      'role',
      'secondFactor',
    ]);
  }
});

test('admin.setRole refuses an unknown role or user with a 4xx', async () => {
  const { client: admin } = await createUser(server, { role: 'admin' });
  const { user } = await createUser(server);
  expect((await admin.mutate('admin.setRole', { userId: user.id, role: 'superuser' })).status).toBe(400);
  expect((await admin.mutate('admin.setRole', { userId: 'nobody', role: 'admin' })).status).toBe(404);
});
