// The session store's housekeeping, on a real database (this run's engine).
import { count } from 'drizzle-orm';
import { expect, test } from 'vitest';
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
    const { sessions, refreshTokens } = server.db.tables;
    const sessionCount = async () => (await server.db.select().from(sessions)).length;

    expect(await store.prune(new Date(now + 800_000))).toBe(0); // the logout is recent: still needed
    expect(await store.prune(new Date(now + 1_000_000))).toBe(1); // the logged-out one goes
    expect(await sessionCount()).toBe(1);
    expect((await live.query('user.me')).status).toBe(200);
    expect(await store.prune(new Date(now + 3_600_000 + 1_000_000))).toBe(1); // idle-expired goes too
    const [tokens] = await server.db.select({ n: count() }).from(refreshTokens);
    expect(tokens?.n).toBe(0);
  } finally {
    await server.close();
  }
});
