// Fixture factories: real accounts created through the real API.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users } from '../../db/schema.ts';
import type { Role } from '../../server/auth/roles.ts';
import { createClient } from './client.ts';

export const PASSWORD = 'correct horse battery staple';

/** Registers a fresh user over HTTP and returns a signed-in client (with its cookies). */
export async function createUser(
  server: { url: string; config: { appOrigin: string }; db: Db },
  options: { role?: Role; email?: string; clock?: { now: () => Date } } = {},
) {
  const client = createClient(server.url, server.config.appOrigin, options.clock);
  const email = options.email ?? `user-${randomBytes(6).toString('hex')}@example.com`;
  const res = await client.mutate<{ user: { id: string; email: string; role: Role } }>('auth.register', {
    email,
    password: PASSWORD,
  });
  if (res.status !== 200) throw new Error(`register failed: ${JSON.stringify(res.body)}`);
  let user = res.body.result!.data.user;
  if (options.role && options.role !== user.role) {
    server.db.update(users).set({ role: options.role }).where(eq(users.id, user.id)).run();
    user = { ...user, role: options.role };
    // Sign in again so the access token carries the role.
    await client.mutate('auth.login', { email, password: PASSWORD });
  }
  return { client, user, email };
}
