// Sign-in over real HTTP: no account enumeration, normalisation, password input rules
// (where a password is set and where it is checked), rate limits and hash upgrades.
// Sign-up itself (mail, link, its limits) is tested in sign-up.test.ts.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../../../server/auth/cookies.ts';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { type CallResult, type TestClient, createClient, randomIp } from '../../helpers/client.ts';
import { nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { startServer, withServer } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';
import { comparableHeaders } from '../../helpers/outcome.ts';
import { TIMING_BAND, timingRatios } from '../../helpers/timing.ts';

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const newClient = () => createClient(server.url, server.config.appOrigin);
const newClientOf = (other: { url: string; config: { appOrigin: string } }) =>
  createClient(other.url, other.config.appOrigin);

test('unknown e-mail and wrong password get identical status, headers and body', async () => {
  const { email } = await createUser(server);
  const wrongPassword = await newClient().mutate('auth.login', { email, password: 'not the password' });
  const unknownEmail = await newClient().mutate('auth.login', {
    email: 'nobody-here@example.com',
    password: 'not the password',
  });
  expect(wrongPassword.status).toBe(401);
  expect(unknownEmail.status).toBe(401);
  expect(unknownEmail.body).toEqual(wrongPassword.body);
  const comparable = (h: Headers) => comparableHeaders(h);
  expect(comparable(unknownEmail.headers)).toEqual(comparable(wrongPassword.headers));
  expect(wrongPassword.headers.get('www-authenticate')).toBe(`Bearer realm="${server.services.realm}"`);
  expect(wrongPassword.setCookies).toEqual([]);
});

test('an unknown e-mail and a wrong password take indistinguishable time (a dummy hash is verified)', async () => {
  // Costly enough (~50 ms a hash) that skipping the hash would stand out on a noisy machine.
  const slow = await startServer({ vars: { ARGON2_MEMORY_KIB: '32768', ARGON2_TIME_COST: '2' } });
  try {
    const { email } = await createUser(slow);
    const login = (target: string) =>
      // A new client address each time: no per-address limit changes the work.
      createClient(slow.url, slow.config.appOrigin).mutate('auth.login', { email: target, password: 'wrong password' });
    // At most 25 wrong passwords for the account: under its lockout, so every try is hashed.
    const ratios = await timingRatios(
      () => login(email),
      () => login(`nobody-${randomBytes(6).toString('hex')}@example.com`),
      { n: 8 },
    );
    // Without the dummy hash the ratio is ~0.05 here; with it, ~1.
    expect(ratios.at(-1)).toBeGreaterThan(TIMING_BAND.min);
    expect(ratios.at(-1)).toBeLessThan(TIMING_BAND.max);
  } finally {
    await slow.close();
  }
});

test('sign-in takes any casing and spacing of the address, sets both cookies and returns only public fields', async () => {
  const { user } = await createUser(server, { email: 'grace.hopper@example.com' });
  const client = newClient();
  const res = await client.mutate<{ user: Record<string, unknown> }>('auth.login', {
    email: '  Grace.Hopper@Example.COM ',
    password: PASSWORD,
  });
  expect(res.status).toBe(200);
  const signedIn = res.body.result!.data.user;
  expect(Object.keys(signedIn).sort()).toEqual(['email', 'id', 'role']);
  expect(signedIn).toEqual({ id: user.id, email: 'grace.hopper@example.com', role: 'user' });
  expect(user.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(client.cookie(ACCESS_COOKIE)).toBeDefined();
  expect(client.cookie(REFRESH_COOKIE)).toBeDefined();
});

test("an account whose address was never proved cannot sign in: the answer is a wrong password's", async () => {
  // No flow creates one today (sign-up proves the address first); the check stands guard.
  const email = 'never-proved@example.com';
  const passwordHash = await server.services.passwords.hash(PASSWORD);
  await server.db.insert(server.db.tables.users).values({ email, passwordHash, emailVerifiedAt: null });
  const rightPassword = await newClient().mutate('auth.login', { email, password: PASSWORD });
  const wrongPassword = await newClient().mutate('auth.login', { email, password: 'not the password' });
  expect(rightPassword.status).toBe(401);
  expect(rightPassword.body).toEqual(wrongPassword.body);
  expect(rightPassword.setCookies).toEqual([]);
});

test.each([
  ['auth.login', 'an invalid e-mail', { email: 'not-an-email', password: PASSWORD }, 'email', /valid e-mail/],
  ['auth.login', 'a missing password', { email: 'c@example.com' }, 'password', /expected string/],
  ['auth.login', 'an empty password', { email: 'c@example.com', password: '' }, 'password', /Enter your password/],
  ['auth.register', 'an invalid e-mail', { email: 'not-an-email' }, 'email', /valid e-mail/],
])('%s refuses %s with a 400 naming the field', async (path, _, input, field, message) => {
  const res = await newClient().mutate(path, input);
  expect(res.status).toBe(400);
  const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
  expect(zodError.fieldErrors[field]?.[0]).toMatch(message);
});

test.each([
  ['a short password', 'short', /at least 8/],
  ['a 257-character password', 'x'.repeat(257), /at most 256/],
  ['a missing password', undefined, /expected string/],
])(
  'changing the password refuses %s with a 400 naming newPassword, and the old one still works',
  async (_, newPassword, message) => {
    const { client, email } = await createUser(server);
    const res = await client.mutate('auth.changePassword', { currentPassword: PASSWORD, newPassword });
    expect(res.status).toBe(400);
    const zodError = res.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
    expect(zodError.fieldErrors.newPassword?.[0]).toMatch(message);
    expect((await newClient().mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  },
);

/** The token of the sign-up link mailed to `email` (the flow itself is tested in sign-up.test.ts). */
async function signUpToken(email: string) {
  expect((await newClient().mutate('auth.register', { email })).status).toBe(200);
  return tokenFromLink((await nextMailTo(server, email)).link);
}
const completeSignUp = (token: string, password: string) =>
  newClient().mutate('auth.completeRegistration', { token, password });

test('a password of 256 characters works; longer is refused before hashing', async () => {
  const email = 'long-password@example.com';
  const password = 'p'.repeat(256);
  expect((await completeSignUp(await signUpToken(email), password)).status).toBe(200);
  expect((await newClient().mutate('auth.login', { email, password })).status).toBe(200);
  const verify = vi.spyOn(server.services.passwords, 'verify');
  try {
    const tooLong = await newClient().mutate('auth.login', { email, password: `${password}p` });
    expect(tooLong.status).toBe(400);
    expect(verify).not.toHaveBeenCalled();
  } finally {
    verify.mockRestore();
  }
});

test('composed, decomposed and compatibility spellings of a password are the same password (NFKC)', async () => {
  const email = 'unicode@example.com';
  expect((await completeSignUp(await signUpToken(email), 'caf\u00e9 \ufb01ne')).status).toBe(200);
  // Decomposed é, and "fi" spelled out instead of the ligature (NFC alone would differ).
  expect((await newClient().mutate('auth.login', { email, password: 'cafe\u0301 fine' })).status).toBe(200);
});

test('password length counts characters after normalisation, not UTF-16 units', async () => {
  const email = 'short-unicode@example.com';
  const token = await signUpToken(email);
  // Four é written as e + combining accent: 8 UTF-16 units, 4 characters.
  const short = await completeSignUp(token, 'e\u0301'.repeat(4));
  expect(short.status).toBe(400);
  const zodError = short.body.error?.data.zodError as { fieldErrors: Record<string, string[]> };
  expect(zodError.fieldErrors.password?.[0]).toMatch(/at least 8/);
  // Eight emoji: 16 UTF-16 units, 8 characters.
  const emoji = '\u{1F510}'.repeat(8);
  expect((await completeSignUp(token, emoji)).status).toBe(200);
  expect((await newClient().mutate('auth.login', { email, password: emoji })).status).toBe(200);
});

test('an old, cheaper hash is upgraded on the next successful sign-in', async () => {
  const weak = await startServer({ vars: { ARGON2_MEMORY_KIB: '1024' } });
  const { email, user } = await createUser(weak);
  const stronger = await startServer({ vars: { ARGON2_MEMORY_KIB: '2048' }, db: weak.db });
  try {
    const { users } = weak.db.tables;
    const hashOf = async () => {
      const [row] = await weak.db.select().from(users).where(eq(users.id, user.id));
      return row!.passwordHash;
    };
    expect(await hashOf()).toContain('m=1024');
    const res = await createClient(stronger.url, stronger.config.appOrigin).mutate('auth.login', {
      email,
      password: PASSWORD,
    });
    expect(res.status).toBe(200);
    expect(await hashOf()).toContain('m=2048');
  } finally {
    await stronger.close({ closeDatabase: false });
    await weak.close();
  }
});

test('repeated failures on one account from one address get 429 with Retry-After, known e-mail or not', () =>
  withServer({}, async (limited) => {
    const { email } = await createUser(limited);
    const attacker = randomIp();
    for (const target of [email, 'never-registered@example.com']) {
      const client = createClient(limited.url, limited.config.appOrigin, undefined, attacker);
      const attempt = () => client.mutate('auth.login', { email: target, password: 'wrong password' });
      for (let i = 0; i < RATE_LIMITS.passwordPerIpAndAccount.points; i++) expect((await attempt()).status).toBe(401);
      const blocked = await attempt();
      expect(blocked.status, target).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.body.error?.message).toMatch(/try again in \d+ seconds/);
    }
    // From that address even the right password waits out the block...
    const sameAddress = createClient(limited.url, limited.config.appOrigin, undefined, attacker);
    expect((await sameAddress.mutate('auth.login', { email, password: PASSWORD })).status).toBe(429);
    // ...but the attacker cannot lock the owner out from elsewhere.
    const owner = createClient(limited.url, limited.config.appOrigin);
    expect((await owner.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  }));

/** Wrong guesses on `email`, as many per address as the per-address limit allows, until `total`. */
async function spreadGuesses(server: { url: string; config: { appOrigin: string } }, email: string, total: number) {
  const perAddress = RATE_LIMITS.passwordPerIpAndAccount.points;
  const statuses: number[] = [];
  for (let sent = 0; sent < total; sent += perAddress) {
    const attacker = createClient(server.url, server.config.appOrigin);
    for (let i = 0; i < Math.min(perAddress, total - sent); i++) {
      statuses.push((await attacker.mutate('auth.login', { email, password: `guess ${sent + i}` })).status);
    }
  }
  return statuses;
}

test('guesses spread over many addresses cannot lock the owner out of sign-in', () =>
  withServer({}, async (limited) => {
    const { email } = await createUser(limited);
    const ceiling = RATE_LIMITS.passwordPerAccount.points;
    const statuses = await spreadGuesses(limited, email, ceiling + 5); // 21 addresses
    expect(statuses.slice(0, ceiling).every((s) => s === 401)).toBe(true);
    // Past the ceiling guesses get 429, from the addresses that guessed and from new ones.
    expect(statuses.slice(ceiling)).toEqual([429, 429, 429, 429, 429]);
    const fresh = await newClientOf(limited).mutate('auth.login', { email, password: 'one more guess' });
    expect(fresh.status).toBe(429);
    expect(Number(fresh.headers.get('retry-after'))).toBeGreaterThan(0);
    // The owner, from an address of their own, signs in.
    const owner = await newClientOf(limited).mutate('auth.login', { email, password: PASSWORD });
    expect(owner.status).toBe(200);
  }));

test('past the ceiling an unknown e-mail is answered exactly like a known one', () =>
  withServer({}, async (limited) => {
    const { email } = await createUser(limited);
    const ceiling = RATE_LIMITS.passwordPerAccount.points;
    const answers = [];
    for (const target of [email, 'never-registered@example.com']) {
      expect((await spreadGuesses(limited, target, ceiling)).every((s) => s === 401)).toBe(true);
      answers.push(await newClientOf(limited).mutate('auth.login', { email: target, password: 'wrong password' }));
    }
    const [known, unknown] = answers as [CallResult, CallResult];
    expect(known.status).toBe(429);
    expect(unknown.status).toBe(429);
    expect(unknown.body).toEqual(known.body);
    const comparable = (h: Headers) => comparableHeaders(h, ['retry-after']);
    expect(comparable(unknown.headers)).toEqual(comparable(known.headers));
  }));

test('past the ceiling each address gets one password check on the account per window', () =>
  withServer({}, async (limited) => {
    const { email } = await createUser(limited);
    await spreadGuesses(limited, email, RATE_LIMITS.passwordPerAccount.points);
    const client = newClientOf(limited);
    expect((await client.mutate('auth.login', { email, password: 'a wrong guess' })).status).toBe(429);
    // A second check from the same address would be an oracle: refused, even the right password.
    expect((await client.mutate('auth.login', { email, password: PASSWORD })).status).toBe(429);
    expect((await newClientOf(limited).mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  }));

test('guesses spread over many addresses do not block the owner changing their password', () =>
  withServer({}, async (limited) => {
    const { email, client: owner } = await createUser(limited);
    await spreadGuesses(limited, email, RATE_LIMITS.passwordPerAccount.points + 5);
    const res = await owner.mutate('auth.changePassword', {
      currentPassword: PASSWORD,
      newPassword: 'a brand new password',
    });
    expect(res.status).toBe(200);
  }));

test('wrong current passwords are limited per session, so a stolen access token is no password oracle', () =>
  withServer({}, async (limited) => {
    const { email, client: thief } = await createUser(limited);
    const change = (client: TestClient, currentPassword: string) =>
      client.mutate('auth.changePassword', { currentPassword, newPassword: 'a brand new password' });
    for (let i = 0; i < RATE_LIMITS.currentPasswordPerSession.points; i++) {
      expect((await change(thief, `guess ${i}`)).status).toBe(400);
    }
    const blocked = await change(thief, PASSWORD); // refused unchecked: the right one too
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The owner's other session is not affected.
    const owner = newClientOf(limited);
    expect((await owner.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
    expect((await change(owner, PASSWORD)).status).toBe(200);
  }));

test('one address trying many accounts is limited too', () =>
  withServer({}, async (limited) => {
    const client = createClient(limited.url, limited.config.appOrigin);
    const statuses: number[] = [];
    for (let i = 0; i <= RATE_LIMITS.passwordPerIp.points; i++) {
      statuses.push(
        (await client.mutate('auth.login', { email: `spray-${i}@example.com`, password: 'Summer2026!' })).status,
      );
    }
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  }));

test('addresses in one IPv6 /64 share a limit', () =>
  withServer({}, async (limited) => {
    const statuses: number[] = [];
    for (let i = 0; i <= RATE_LIMITS.passwordPerIpAndAccount.points; i++) {
      const client = createClient(limited.url, limited.config.appOrigin, undefined, `2001:db8:aaaa:bbbb::${i + 1}`);
      statuses.push(
        (await client.mutate('auth.login', { email: 'v6@example.com', password: 'wrong password' })).status,
      );
    }
    expect(statuses.at(-1)).toBe(429);
  }));

test('calls inside one batch count one by one against the limit', () =>
  withServer({}, async (limited) => {
    const n = RATE_LIMITS.passwordPerIpAndAccount.points + 1;
    const paths = Array.from({ length: n }, () => 'auth.login').join(',');
    const input = Object.fromEntries(
      Array.from({ length: n }, (_, i) => [i, { email: 'batch@example.com', password: 'wrong password' }]),
    );
    const res = await fetch(`${limited.url}/trpc/${paths}?batch=1`, {
      method: 'POST',
      headers: { origin: limited.config.appOrigin, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const codes = ((await res.json()) as { error: { data: { httpStatus: number } } }[]).map(
      (r) => r.error.data.httpStatus,
    );
    expect(codes.filter((c) => c === 429)).toHaveLength(1);
    expect(res.headers.get('retry-after')).not.toBeNull();
  }));

test('refreshes from one address are limited', () =>
  withServer({}, async (limited) => {
    const client = createClient(limited.url, limited.config.appOrigin);
    let last = 0;
    for (let i = 0; i <= RATE_LIMITS.refreshPerIp.points; i++) last = (await client.mutate('auth.refresh')).status;
    expect(last).toBe(429);
  }));

test('login with SQL-injection strings is a plain 401 or 400, never a 500', async () => {
  for (const email of ["' OR 1=1 --@example.com", "a@example.com' OR '1'='1"]) {
    const res = await newClient().mutate('auth.login', { email, password: "' OR ''='" });
    expect([400, 401]).toContain(res.status);
  }
});
