// The native-client transport over real HTTP (server/auth/transport.ts, decision 011): tokens
// in response bodies and `Authorization: Bearer` instead of cookies, the same session rules
// as the cookie flow, the requests refused before any procedure runs (browser markers, two
// transports at once, malformed headers), token exchange for declared services, and hostile
// header values that must never end the process.
import { connect } from 'node:net';
import fc from 'fast-check';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { expect, test } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../../../server/auth/cookies.ts';
import { AUTH_ERRORS } from '../../../server/auth/errors.ts';
import { type CallResult, createClient } from '../../helpers/client.ts';
import { freshKeyVars } from '../../helpers/config.ts';
import { createNativeClient } from '../../helpers/native-client.ts';
import { createClock, type startServer, startServersPerTest } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

type Server = Awaited<ReturnType<typeof startServer>>;
const start = startServersPerTest();

/** A user signed in twice: in a browser (cookies) and in a native app (tokens in bodies). */
async function setup(vars: Record<string, string> = {}) {
  const clock = createClock();
  const server = await start({ vars, clock });
  const { client: browser, user, email } = await createUser(server, { clock });
  const native = createNativeClient(server.url);
  const signIn = await native.login(email);
  expect(signIn.status).toBe(200);
  return { server, clock, browser, user, email, native, signIn };
}

const authErrorOf = (res: CallResult) => res.body.error?.data.authError;
const challenge = (server: Server, error: string, description: string) =>
  `Bearer realm="${server.services.realm}", error="${error}", error_description="${description}"`;
const allSessions = (server: Server) => server.db.select().from(server.db.tables.sessions);
const sessionOf = async (server: Server, jwt: string) =>
  (await allSessions(server)).find((s) => s.id === decodeJwt(jwt).sid);

// --- A native session's life ------------------------------------------------------------

test('a native sign-in returns its tokens in the body and sets no cookie; the access token works as Bearer', async () => {
  const { server, clock, native, signIn, email, user } = await setup();
  expect(signIn.setCookies).toEqual([]);
  expect(signIn.headers.get('set-cookie')).toBeNull();
  const { tokens } = signIn.body.result!.data;
  expect(tokens).toEqual({
    tokenType: 'Bearer',
    accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    refreshToken: expect.any(String),
    refreshTokenExpiresAt: new Date(clock.now().getTime() + server.config.jwt.refreshTokenTtl * 1000).toISOString(),
  });
  expect(decodeJwt(tokens!.accessToken)).toMatchObject({ sub: user.id, aud: server.config.jwt.audience });

  const me = await native.query<{ email: string }>('user.me');
  expect(me.status).toBe(200);
  expect(me.body.result?.data.email).toBe(email);
  // X-Auth-Transport alone is a native client that has not signed in.
  const anonymous = await native.query('user.me', undefined, { authorization: undefined });
  expect(anonymous.status).toBe(401);
  expect(authErrorOf(anonymous)).toBe('missing_token');
  // Authorization alone is enough: the header only asks for tokens in bodies.
  expect((await native.query('user.me', undefined, { 'x-auth-transport': undefined })).status).toBe(200);
});

test('a refresh with the body token rotates both tokens; within the grace window the old one gets the same successor', async () => {
  const { server, clock, native } = await setup({ REFRESH_REUSE_GRACE: '5' });
  const [oldAccess, oldRefresh] = [native.accessToken!, native.refreshToken!];
  clock.advance(60);
  const res = await native.refresh();
  expect(res.status).toBe(200);
  expect(res.setCookies).toEqual([]);
  const successor = native.refreshToken!;
  expect(successor).not.toBe(oldRefresh);
  expect(native.accessToken).not.toBe(oldAccess);
  expect(decodeJwt(native.accessToken!).sid).toBe(decodeJwt(oldAccess).sid);
  expect((await native.query('user.me')).status).toBe(200);

  // A second request that raced the first (or whose response was lost) holds the old token.
  clock.advance(2);
  const retry = createNativeClient(server.url);
  const again = await retry.refresh(oldRefresh);
  expect(again.status).toBe(200);
  expect(again.body.result?.data.tokens?.refreshToken).toBe(successor);
  expect((await sessionOf(server, oldAccess))?.revokedAt).toBeNull();
});

test('a rotated refresh token replayed after the grace window ends the session: access and newest refresh token too', async () => {
  const { server, clock, native } = await setup({ REFRESH_REUSE_GRACE: '5' });
  const stolen = native.refreshToken!;
  expect((await native.refresh()).status).toBe(200);

  clock.advance(6);
  const attacker = createNativeClient(server.url);
  const replay = await attacker.refresh(stolen);
  expect(replay.status).toBe(401);
  expect(authErrorOf(replay)).toBe('revoked_session');
  expect(replay.body.result).toBeUndefined();

  const me = await native.query('user.me');
  expect(me.status).toBe(401);
  expect(authErrorOf(me)).toBe('revoked_session');
  expect(me.headers.get('www-authenticate')).toBe(
    challenge(server, 'invalid_token', AUTH_ERRORS.revoked_session.message),
  );
  expect(authErrorOf(await native.refresh())).toBe('revoked_session');
  expect((await sessionOf(server, native.accessToken!))?.revokedReason).toBe('reuse_detected');
});

test('a refresh token sent with the access token of another session is refused and spends nothing', async () => {
  const { server, email, native } = await setup();
  const other = createNativeClient(server.url);
  expect((await other.login(email)).status).toBe(200);
  const mixed = await native.refresh(other.refreshToken);
  expect(mixed.status).toBe(401);
  expect(authErrorOf(mixed)).toBe('invalid_token');
  expect((await other.refresh()).status).toBe(200);
  expect((await native.refresh()).status).toBe(200);
});

test('sign-out with the bearer token ends the session', async () => {
  const { server, native, browser } = await setup();
  const logout = await native.mutate('auth.logout');
  expect(logout.status).toBe(200);
  expect(logout.setCookies).toEqual([]);
  const me = await native.query('user.me');
  expect(me.status).toBe(401);
  expect(authErrorOf(me)).toBe('revoked_session');
  expect(authErrorOf(await native.refresh())).toBe('revoked_session');
  expect((await sessionOf(server, native.accessToken!))?.revokedReason).toBe('logout');
  // Only that session: the browser's lives on.
  expect((await browser.query('user.me')).status).toBe(200);
});

test('an expired access token gets 401 expired_token with its RFC 6750 challenge, and a refresh brings the session back', async () => {
  const { server, clock, native } = await setup();
  clock.advance(server.config.jwt.accessTokenTtl + 1);
  const expired = await native.query('user.me');
  expect(expired.status).toBe(401);
  expect(authErrorOf(expired)).toBe('expired_token');
  expect(expired.headers.get('www-authenticate')).toBe(
    challenge(server, 'invalid_token', AUTH_ERRORS.expired_token.message),
  );
  expect(expired.headers.get('www-authenticate')).toContain('expired');
  expect((await native.refresh()).status).toBe(200);
  expect((await native.query('user.me')).status).toBe(200);
});

test.each([
  [
    'an admin ending all of the user’s sessions',
    async (server: Server, userId: string) => {
      const { client: admin } = await createUser(server, { role: 'admin' });
      return admin.mutate('admin.revokeUserSessions', { userId });
    },
    'revoked',
  ],
  [
    'a password change in the browser',
    async (_: Server, __: string, browser: ReturnType<typeof createClient>) =>
      browser.mutate('auth.changePassword', { currentPassword: PASSWORD, newPassword: 'a brand new passphrase 42' }),
    'password_changed',
  ],
])('a session ended by %s refuses its bearer token and its refresh token', async (_, endSessions, reason) => {
  const { server, native, user, browser } = await setup();
  expect((await endSessions(server, user.id, browser)).status).toBe(200);
  const me = await native.query('user.me');
  expect(me.status).toBe(401);
  expect(authErrorOf(me)).toBe('revoked_session');
  expect(authErrorOf(await native.refresh())).toBe('revoked_session');
  expect((await sessionOf(server, native.accessToken!))?.revokedReason).toBe(reason);
});

// --- Refused before any procedure runs ------------------------------------------------------

type Setup = Awaited<ReturnType<typeof setup>>;
const bearer = ({ native }: Setup) => `Bearer ${native.accessToken}`;

test.each<[string, 400 | 403, 'invalid_request' | null, (s: Setup) => Record<string, string>]>([
  [
    'Authorization: Bearer with an access cookie',
    400,
    'invalid_request',
    (s) => ({ authorization: bearer(s), cookie: `${ACCESS_COOKIE}=${s.browser.cookie(ACCESS_COOKIE)}` }),
  ],
  [
    'X-Auth-Transport with a refresh cookie',
    400,
    'invalid_request',
    (s) => ({ 'x-auth-transport': 'bearer', cookie: `${REFRESH_COOKIE}=${s.browser.cookie(REFRESH_COOKIE)}` }),
  ],
  [
    'a bearer token with Origin: https://evil.example',
    403,
    null,
    (s) => ({ authorization: bearer(s), origin: 'https://evil.example' }),
  ],
  [
    'a bearer token with Sec-Fetch-Site: cross-site',
    403,
    null,
    (s) => ({ authorization: bearer(s), 'sec-fetch-site': 'cross-site' }),
  ],
  // Body transport is never given to a browser, not even to our own pages.
  [
    'a bearer token with Sec-Fetch-Site: same-origin',
    403,
    null,
    (s) => ({ authorization: bearer(s), 'sec-fetch-site': 'same-origin' }),
  ],
  [
    'a bearer token with Sec-Fetch-Dest: empty',
    403,
    null,
    (s) => ({ authorization: bearer(s), 'sec-fetch-dest': 'empty' }),
  ],
  ['a bearer token with Sec-Fetch-User: ?1', 403, null, (s) => ({ authorization: bearer(s), 'sec-fetch-user': '?1' })],
  [
    'X-Auth-Transport with our own Origin',
    403,
    null,
    (s) => ({ 'x-auth-transport': 'bearer', origin: s.server.config.appOrigin }),
  ],
  [
    'X-Auth-Transport with Authorization: Basic',
    400,
    'invalid_request',
    () => ({ 'x-auth-transport': 'bearer', authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` }),
  ],
  ['Authorization: Bearer with no token', 400, 'invalid_request', () => ({ authorization: 'Bearer' })],
  [
    'Authorization: Bearer with two tokens',
    400,
    'invalid_request',
    (s) => ({ authorization: `${bearer(s)} ${s.native.accessToken}` }),
  ],
  ['X-Auth-Transport: cookie', 400, null, (s) => ({ 'x-auth-transport': 'cookie', authorization: bearer(s) })],
])('%s is refused with %i', async (_, status, bearerError, headersOf) => {
  const s = await setup();
  // auth.logout: had any of these reached a procedure, a session would have ended.
  const res = await fetch(`${s.server.url}/trpc/auth.logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersOf(s) },
    body: '{}',
  });
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string; data: { code: string; httpStatus: number } } };
  expect(body.error.data).toMatchObject({
    code: status === 400 ? 'BAD_REQUEST' : 'FORBIDDEN',
    httpStatus: status,
  });
  const wwwAuthenticate = res.headers.get('www-authenticate');
  if (bearerError) expect(wwwAuthenticate).toMatch(new RegExp(`^Bearer realm="[^"]+", error="${bearerError}"`));
  else expect(wwwAuthenticate).toBeNull();
  expect(res.headers.getSetCookie()).toEqual([]);
  expect((await s.native.query('user.me')).status).toBe(200);
  expect((await s.browser.query('user.me')).status).toBe(200);
});

test('a browser behind a Basic-auth proxy (Authorization: Basic, no X-Auth-Transport) keeps the cookie transport', async () => {
  const { server, browser } = await setup();
  const basic = `Basic ${Buffer.from('staging:pass').toString('base64')}`;
  const cookie = `${ACCESS_COOKIE}=${browser.cookie(ACCESS_COOKIE)}`;
  const me = await fetch(`${server.url}/trpc/user.me`, { headers: { authorization: basic, cookie } });
  expect(me.status).toBe(200);
  const logout = await fetch(`${server.url}/trpc/auth.logout`, {
    method: 'POST',
    headers: { authorization: basic, cookie, origin: server.config.appOrigin, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(logout.status).toBe(200);
  expect(logout.headers.getSetCookie().length).toBeGreaterThan(0);
});

test('signing in while presenting someone else’s old token does not end their session', async () => {
  const { server, clock, native: victim, email } = await setup();
  // The victim's token leaked (a log, say) and expired long ago.
  const leaked = victim.accessToken!;
  clock.advance(server.config.jwt.accessTokenTtl * 4);
  expect(authErrorOf(await victim.query('user.me'))).toBe('expired_token');
  const { email: attackerEmail } = await createUser(server, { clock });
  const attacker = createNativeClient(server.url);
  attacker.setTokens({ access: leaked });
  expect((await attacker.login(attackerEmail)).status).toBe(200);
  expect((await sessionOf(server, leaked))?.revokedAt).toBeNull();
  expect((await victim.refresh()).status).toBe(200);
  // The same user signing in again does end the session its token names.
  const again = createNativeClient(server.url);
  again.setTokens({ access: victim.accessToken! });
  const before = victim.accessToken!;
  expect((await again.login(email)).status).toBe(200);
  expect((await sessionOf(server, before))?.revokedReason).toBe('signed_in_again');
});

test('a native sign-in from a page of our own origin is refused: no tokens, no session', async () => {
  const { server, email } = await setup();
  const sessionsBefore = (await allSessions(server)).length;
  const native = createNativeClient(server.url);
  const res = await native.mutate('auth.login', { email, password: PASSWORD }, { origin: server.config.appOrigin });
  expect(res.status).toBe(403);
  expect(res.body.error?.data.code).toBe('FORBIDDEN');
  expect(res.body.result).toBeUndefined();
  expect(JSON.stringify(res.body)).not.toContain('eyJ');
  expect(native.accessToken).toBeUndefined();
  expect(res.setCookies).toEqual([]);
  expect(await allSessions(server)).toHaveLength(sessionsBefore);
});

test('a native POST needs no Origin (no CSRF check applies) but still needs JSON', async () => {
  const { native } = await setup();
  for (const type of [
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    undefined,
  ]) {
    const res = await native.mutate('auth.logout', undefined, { 'content-type': type });
    expect(res.status, `content-type ${type}`).toBe(415);
    expect(res.body.error?.message).toBe('Content-Type must be application/json');
    expect(res.body.error?.data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  }
  expect((await native.query('user.me')).status).toBe(200);
  expect((await native.mutate('auth.logout')).status).toBe(200);
});

test('a refresh token in the body on the cookie transport is refused with 400 and is not spent', async () => {
  const { browser, native } = await setup();
  const res = await browser.mutate('auth.refresh', { refreshToken: native.refreshToken });
  expect(res.status).toBe(400);
  expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  expect(res.body.error?.message).toMatch(/x-auth-transport: bearer/);
  expect(res.setCookies).toEqual([]);
  expect((await native.refresh()).status).toBe(200);
  expect((await browser.query('user.me')).status).toBe(200);
});

test('a browser sign-in still gets cookies and no tokens field', async () => {
  const { server, email } = await setup();
  const browser = createClient(server.url, server.config.appOrigin);
  const res = await browser.mutate<object>('auth.login', { email, password: PASSWORD });
  expect(res.status).toBe(200);
  expect(res.setCookies.map((c) => c.name)).toEqual([ACCESS_COOKIE, REFRESH_COOKIE]);
  expect(res.body.result?.data).not.toHaveProperty('tokens');
  const refreshed = await browser.mutate<object>('auth.refresh');
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.result?.data).not.toHaveProperty('tokens');
});

// --- Token exchange ------------------------------------------------------------------------

const SERVICES = { reports: 'http://127.0.0.1:1', billing: 'http://127.0.0.1:2' };
const setupServices = () =>
  setup({
    ...freshKeyVars('EdDSA'),
    JWT_SERVICES: Object.entries(SERVICES)
      .map(([name, audience]) => `${name}=${audience}`)
      .join(','),
  });
interface Exchanged {
  tokenType: 'Bearer';
  accessToken: string;
  audience: string;
  expiresAt: string;
}
const exchange = (client: { mutate: ReturnType<typeof createNativeClient>['mutate'] }, service: string) =>
  client.mutate<Exchanged>('auth.exchangeToken', { service });

test('a browser cannot exchange its session for a service token', async () => {
  const { browser } = await setupServices();
  const res = await browser.mutate<Exchanged>('auth.exchangeToken', { service: 'reports' });
  expect(res.status).toBe(403);
  expect(res.body.error?.data.code).toBe('FORBIDDEN');
  expect(res.body.result).toBeUndefined();
});

test('an undeclared service is refused with 400 naming the declared ones', async () => {
  const { native } = await setupServices();
  const res = await exchange(native, 'payroll');
  expect(res.status).toBe(400);
  expect(res.body.error?.message).toBe('Unknown service "payroll": declared are reports, billing');
});

test('a service token has exactly that service’s audience, the same user, and expires no later than the caller’s token', async () => {
  const { server, clock, native, user } = await setupServices();
  const caller = decodeJwt(native.accessToken!);
  // Later than sign-in: a full TTL from now would outlive the caller's token.
  clock.advance(120);
  const res = await exchange(native, 'reports');
  expect(res.status).toBe(200);
  const { accessToken, ...rest } = res.body.result!.data;
  const claims = decodeJwt(accessToken);
  expect(claims).toMatchObject({ aud: SERVICES.reports, sub: user.id, sid: caller.sid, iss: server.config.jwt.issuer });
  expect(decodeProtectedHeader(accessToken)).toMatchObject({ typ: 'at+jwt', alg: 'EdDSA' });
  expect(claims.exp).toBeLessThanOrEqual(caller.exp!);
  expect(claims.exp).toBe(caller.exp);
  expect(rest).toEqual({
    tokenType: 'Bearer',
    audience: SERVICES.reports,
    expiresAt: new Date(claims.exp! * 1000).toISOString(),
  });
  expect((await server.services.auditLog.list({ limit: 1, type: 'token_exchanged' })).events[0]).toMatchObject({
    userId: user.id,
    detail: 'reports',
  });
});

test('a service token is refused by this API: its audience is not ours', async () => {
  const { server, native } = await setupServices();
  const serviceToken = (await exchange(native, 'reports')).body.result!.data.accessToken;
  const holder = createNativeClient(server.url);
  holder.setTokens({ access: serviceToken });
  for (const res of [
    await holder.query('user.me'),
    await exchange(holder, 'billing'),
    await holder.mutate('auth.logout'),
  ]) {
    expect(res.status).toBe(401);
    expect(authErrorOf(res)).toBe('invalid_token');
    expect(res.headers.get('www-authenticate')).toBe(
      challenge(server, 'invalid_token', AUTH_ERRORS.invalid_token.message),
    );
  }
  // The logout above did not end the session the service token names.
  expect((await native.query('user.me')).status).toBe(200);
});

test('service tokens are rate-limited per session (each one is audited): 429 with Retry-After past 30 a minute', async () => {
  const { native } = await setupServices();
  for (let i = 0; i < 30; i++) expect((await exchange(native, 'reports')).status).toBe(200);
  const refused = await exchange(native, 'reports');
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
});

test('a token for one service is not a token for another', async () => {
  const { server, native } = await setupServices();
  const reports = decodeJwt((await exchange(native, 'reports')).body.result!.data.accessToken);
  const billing = decodeJwt((await exchange(native, 'billing')).body.result!.data.accessToken);
  expect([reports.aud, billing.aud]).toEqual([SERVICES.reports, SERVICES.billing]);
  expect(reports.jti).not.toBe(billing.jti);
  expect([reports.aud, billing.aud]).not.toContain(server.config.jwt.audience);
});

// --- No request may end the process ------------------------------------------------------------

/**
 * Sends `head` byte for byte (fetch and node:http refuse control characters and non-Latin-1
 * text in headers) and resolves with the response's status.
 */
function rawRequest(url: string, head: string): Promise<number> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0)));
    socket.write(Buffer.from(head, 'utf8'));
  });
}

const HOSTILE: [string, string][] = [
  ['Authorization', `Bearer ${'a'.repeat(5000)}`],
  ['Authorization', `Bearer ${'a'.repeat(20_000)}`],
  ['Authorization', `Bearer ${'eyJ'.repeat(1000)}.${'x'.repeat(1000)}.${'y'.repeat(1000)}`],
  ['Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'],
  ['Authorization', 'Bearer ünïcødé-tøken ✓'],
  ['Authorization', 'Bearer \u{1F511}'],
  ['Authorization', 'Bearer a\u0000b'],
  ['Authorization', 'Bearer a\rX-Injected: 1'],
  ['Authorization', 'Bearer\ttoken'],
  ['Authorization', 'Bearer ='],
  ['Authorization', ''],
  ['Authorization', ' '.repeat(8000)],
  ['X-Auth-Transport', 'BEARER'],
  ['X-Auth-Transport', 'bearer\u0001'],
  ['X-Auth-Transport', 'bearer'.repeat(2000)],
  ['X-Auth-Transport', 'bëärer'],
];

test.each(HOSTILE.map(([name, value]) => [name, JSON.stringify(value).slice(0, 60), value] as const))(
  'a hostile %s header (%s) gets a 4xx and the server keeps answering',
  async (name, _, value) => {
    const server = await start();
    const status = await rawRequest(
      server.url,
      `GET /trpc/user.me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${name}: ${value}\r\n\r\n`,
    );
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect((await fetch(`${server.url}/trpc/health`)).status).toBe(200);
  },
);

test('arbitrary Authorization and X-Auth-Transport values get a 4xx, never a 500 or a hang', async () => {
  const server = await start();
  // Any code points, control characters included, alone or after `Bearer `.
  const value = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }).map((text) => `Bearer ${text}`),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('Authorization', 'X-Auth-Transport'), value, async (name, text) => {
      const status = await rawRequest(
        server.url,
        `POST /trpc/auth.logout HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
          `Content-Type: application/json\r\nContent-Length: 2\r\n${name}: ${text}\r\n\r\n{}`,
      );
      expect(status, `${name}: ${JSON.stringify(text)}`).toBeGreaterThanOrEqual(400);
      expect(status, `${name}: ${JSON.stringify(text)}`).toBeLessThan(500);
    }),
    { numRuns: 200 },
  );
  expect((await fetch(`${server.url}/trpc/health`)).status).toBe(200);
});
