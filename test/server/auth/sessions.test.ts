// The session store's housekeeping, on a real in-memory database.
import { expect, test } from 'vitest';
import { sessions } from '../../../db/schema.ts';
import { startServer } from '../../helpers/server.ts';
import { createUser } from '../../helpers/users.ts';

test('prune deletes sessions that ended over one access lifetime ago, with their tokens, and keeps the rest', async () => {
  const server = await startServer({ vars: { REFRESH_TOKEN_TTL: '3600', ACCESS_TOKEN_TTL: '900' } });
  try {
    const { client: live } = await createUser(server);
    const { client: ended } = await createUser(server);
    await ended.mutate('auth.logout');
    const store = server.services.sessions;
    const now = Date.now();
    const count = () => server.db.select().from(sessions).all().length;

    expect(store.prune(new Date(now + 800_000))).toBe(0); // the logout is recent: still needed
    expect(store.prune(new Date(now + 1_000_000))).toBe(1); // the logged-out one goes
    expect(count()).toBe(1);
    expect((await live.query('user.me')).status).toBe(200);
    expect(store.prune(new Date(now + 3_600_000 + 1_000_000))).toBe(1); // idle-expired goes too
    expect(server.db.$client.prepare('SELECT count(*) FROM refresh_tokens').pluck().get()).toBe(0);
  } finally {
    await server.close();
  }
});
