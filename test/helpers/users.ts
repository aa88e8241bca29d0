// Fixture factories: real accounts, signed in through the real API. The sign-up flow itself
// (mail, link, password) is tested in test/server/auth/sign-up.test.ts; here an account is
// inserted as `npm run user:create` would, then signs in over HTTP for real cookies.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import { insertVerifiedUser } from '../../server/auth/accounts.ts';
import type { PasswordHasher } from '../../server/auth/passwords.ts';
import type { Role } from '../../server/auth/roles.ts';
import { createClient } from './client.ts';

export const PASSWORD = 'correct horse battery staple';

/** A verified account with PASSWORD, and a client signed in to it (with its cookies). */
export async function createUser(
  server: { url: string; config: { appOrigin: string }; db: Db; services: { passwords: PasswordHasher } },
  options: { role?: Role; email?: string; clock?: { now: () => Date } } = {},
) {
  const client = createClient(server.url, server.config.appOrigin, options.clock);
  const email = options.email ?? `user-${randomBytes(6).toString('hex')}@example.com`;
  const passwordHash = await server.services.passwords.hash(PASSWORD);
  const now = options.clock?.now() ?? new Date();
  if (!(await insertVerifiedUser(server.db, { email, passwordHash, role: options.role }, now))) {
    throw new Error(`createUser: ${email} is taken`);
  }
  const res = await client.mutate<{ user: { id: string; email: string; role: Role } }>('auth.login', {
    email,
    password: PASSWORD,
  });
  if (res.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(res.body)}`);
  return { client, user: res.body.result!.data.user, email };
}
