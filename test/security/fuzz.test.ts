// Property-based fuzzing over HTTP: arbitrary JSON as every procedure's input, from a
// signed-in admin (so auth does not short-circuit the input handling). Every answer
// must be a 2xx or a 4xx with a message, in bounded time: never a 500, never a hang.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ACCESS_COOKIE } from '../../server/auth/cookies.ts';
import { appRouter } from '../../server/routers/_app.ts';
import { startServer } from '../helpers/server.ts';
import { createUser } from '../helpers/users.ts';

const RUNS_PER_PROCEDURE = 60;
/** Every key some procedure's input has: objects built from them get past the first checks. */
const KEYS = ['email', 'password', 'currentPassword', 'newPassword', 'id', 'userId', 'role', 'before', 'limit', 'type'];

/** Arbitrary JSON, and objects with the right keys holding arbitrary or almost-right values. */
const inputs = (known: string[]) => {
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...known), fc.string(), fc.integer());
  return fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 }));
};
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>);

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

test.each(procedures.map(([path, p]) => [path, p._def.type] as const))(
  '%s answers arbitrary JSON input with a 2xx or a clear 4xx',
  async (path, type) => {
    // A fresh admin per procedure: fuzzing auth.logout must not sign out the others.
    const { client, user, email } = await createUser(server, { role: 'admin' });
    const cookie = `${ACCESS_COOKIE}=${client.cookie(ACCESS_COOKIE)}`;
    const known = [user.id, email, 'admin', 'user', 'login', 'a long enough password', 'x@example.com'];
    await fc.assert(
      fc.asyncProperty(inputs(known), async (input) => {
        const json = JSON.stringify(input) ?? 'null';
        const url = `${server.url}/trpc/${path}${type === 'query' ? `?input=${encodeURIComponent(json)}` : ''}`;
        const res = await fetch(url, {
          method: type === 'query' ? 'GET' : 'POST',
          headers: {
            origin: server.config.appOrigin,
            'content-type': 'application/json',
            cookie,
            'x-forwarded-for': '2001:db8:f::1',
          },
          body: type === 'query' ? undefined : json,
          signal: AbortSignal.timeout(5_000),
        });
        const body = (await res.json()) as { error?: { message?: string } };
        if (res.status >= 500) throw new Error(`${res.status} for ${json}: ${JSON.stringify(body)}`);
        if (res.status >= 400) expect(body.error?.message).toBeTruthy();
      }),
      { numRuns: RUNS_PER_PROCEDURE },
    );
  },
  60_000,
);
