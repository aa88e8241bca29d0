// Which passwords may be set: the most common ones are refused (ASVS 5.0 V6.2.4),
// while a user whose existing password is common can still sign in and change it.
import { randomBytes } from 'node:crypto';
import { dictionary } from '@zxcvbn-ts/language-common';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { newPasswordInput, passwordInput } from '../../../server/auth/inputs.ts';
import { createClient } from '../../helpers/client.ts';
import { nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { startServer } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

const COMMON = ['password', '12345678', 'qwertyuiop', 'iloveyou', 'password1'];
const IS_COMMON = /one of the most common passwords/;
/** Random words nobody has used before: what a password manager would suggest. */
const randomPassphrase = () => Array.from({ length: 5 }, () => randomBytes(4).toString('hex')).join(' ');

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

function firstIssue(input: string) {
  const result = newPasswordInput.safeParse(input);
  return result.success ? null : result.error.issues[0]?.message;
}

test.each(COMMON)('refuses %s as a new password because it is common', (password) => {
  expect(firstIssue(password)).toMatch(IS_COMMON);
});

test.each([
  ['upper case', 'PASSWORD1'],
  ['mixed case', 'IloveYou'],
  ['full-width letters (the same after NFKC)', '\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44'],
])('refuses a common password written in %s', (_, password) => {
  expect(firstIssue(password)).toMatch(IS_COMMON);
});

test('refuses the 10,000th most common password, not only the top of the list', () => {
  const tenThousandth = dictionary['passwords-common'][9_999]!;
  expect([...tenThousandth].length).toBeGreaterThanOrEqual(8);
  expect(firstIssue(tenThousandth)).toMatch(IS_COMMON);
});

test('a short common password is told only that it is too short', () => {
  expect(newPasswordInput.safeParse('123456').error?.issues.map((issue) => issue.message)).toEqual([
    'Password must be at least 8 characters',
  ]);
});

test('accepts a long random passphrase and the test suite’s password', () => {
  expect(newPasswordInput.safeParse(randomPassphrase()).success).toBe(true);
  expect(newPasswordInput.safeParse(PASSWORD).success).toBe(true);
});

test('a password being checked at sign-in is not held to the list', () => {
  for (const password of COMMON) expect(passwordInput.safeParse(password).success).toBe(true);
});

test.each(COMMON)('auth.changePassword refuses %s with a 400 naming newPassword', async (password) => {
  const { client } = await createUser(server);
  const res = await client.mutate('auth.changePassword', { currentPassword: PASSWORD, newPassword: password });
  expect(res.status).toBe(400);
  const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
  expect(zodError.fieldErrors.newPassword?.[0]).toMatch(IS_COMMON);
});

test('auth.changePassword accepts a long random passphrase', async () => {
  const { client } = await createUser(server);
  const res = await client.mutate('auth.changePassword', {
    currentPassword: PASSWORD,
    newPassword: randomPassphrase(),
  });
  expect(res.status).toBe(200);
});

test('auth.completeRegistration refuses a common password with a 400 naming password', async () => {
  const email = `common-${randomBytes(4).toString('hex')}@example.com`;
  await createClient(server.url, server.config.appOrigin).mutate('auth.register', { email });
  const token = tokenFromLink((await nextMailTo(server, email)).link);
  const res = await createClient(server.url, server.config.appOrigin).mutate('auth.completeRegistration', {
    token,
    password: 'iloveyou',
  });
  expect(res.status).toBe(400);
  const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
  expect(zodError.fieldErrors.password?.[0]).toMatch(IS_COMMON);
});

test('auth.resetPassword refuses a common password with a 400 naming newPassword', async () => {
  const { email } = await createUser(server);
  await createClient(server.url, server.config.appOrigin).mutate('auth.requestPasswordReset', { email });
  const token = tokenFromLink((await nextMailTo(server, email)).link);
  const res = await createClient(server.url, server.config.appOrigin).mutate('auth.resetPassword', {
    token,
    newPassword: 'iloveyou',
  });
  expect(res.status).toBe(400);
  const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
  expect(zodError.fieldErrors.newPassword?.[0]).toMatch(IS_COMMON);
});

test('an account whose password is already common still signs in, and can move to a better one', async () => {
  const { user, email } = await createUser(server);
  // Set before the list existed (or by an older version of the app).
  const passwordHash = await server.services.passwords.hash('password1');
  const { users } = server.db.tables;
  await server.db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
  const client = createClient(server.url, server.config.appOrigin);
  expect((await client.mutate('auth.login', { email, password: 'password1' })).status).toBe(200);
  const change = await client.mutate('auth.changePassword', {
    currentPassword: 'password1',
    newPassword: randomPassphrase(),
  });
  expect(change.status).toBe(200);
});
