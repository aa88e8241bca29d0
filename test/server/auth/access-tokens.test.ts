// Access tokens under attack, over real HTTP: every forged, tampered, expired or
// malformed `__Host-access_token` cookie sent to `user.me` must be a 401 with the
// right RFC 6750 challenge and `authError`, never a 200 and never a 500.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { ACCESS_COOKIE } from '../../../server/auth/cookies.ts';
import { type TestClient, createClient } from '../../helpers/client.ts';
import { randomSecret } from '../../helpers/config.ts';
import { createClock, startServer } from '../../helpers/server.ts';
import { outcome, refused } from '../../helpers/outcome.ts';
import { createUser } from '../../helpers/users.ts';

type Server = Awaited<ReturnType<typeof startServer>>;
type Claims = Record<string, unknown>;

const TTL = 600;

// --- Forging tokens -------------------------------------------------------------

const json64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const epochSeconds = (date: Date = new Date()) => Math.floor(date.getTime() / 1000);
/** The server's key id: a public name derived from the secret. */
const kidOf = (secret: string) => createHash('sha256').update(`kid:${secret}`).digest('base64url').slice(0, 16);
/** The HMAC key the server uses: the secret's 32 decoded bytes, not its text. */
const keyOf = (secret: string) => Buffer.from(secret, 'base64url');

/** Signs `header.payload` by hand, so nothing stops us from signing nonsense. */
function sign(header: Claims, payload: string, key: Buffer, hash: 'sha256' | 'sha512' = 'sha256') {
  const input = `${json64(header)}.${payload}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

interface Forgery {
  /** Merged over the genuine header; a key set to `undefined` is left out. */
  header?: Claims;
  /** Merged over genuine claims; a key set to `undefined` is left out. */
  claims?: Claims;
  /** Signs with this secret (and, unless `header.kid` says otherwise, names its kid). */
  secret?: string;
  /** Signs with these raw key bytes instead of the secret's. */
  key?: Buffer;
  hash?: 'sha256' | 'sha512';
}

/**
 * A factory of tokens for one signed-in session on one server: by default exactly what
 * the server itself would issue now (fresh jti), signed with its current key.
 */
function forgerFor(server: Server, genuineToken: string, now: () => Date = () => new Date()) {
  const { sub, sid } = decodeJwt(genuineToken);
  const { jwt } = server.config;
  const claims = (): Claims => {
    const iat = epochSeconds(now());
    return {
      iss: jwt.issuer,
      aud: jwt.audience,
      sub,
      sid,
      role: 'user',
      iat,
      exp: iat + jwt.accessTokenTtl,
      jti: randomBytes(16).toString('base64url'),
    };
  };
  return {
    sub: sub as string,
    sid: sid as string,
    claims,
    forge(f: Forgery = {}) {
      const secret = f.secret ?? jwt.secret!;
      const header = { alg: 'HS256', typ: 'at+jwt', kid: kidOf(secret), ...f.header };
      return sign(header, json64({ ...claims(), ...f.claims }), f.key ?? keyOf(secret), f.hash);
    },
    /** A genuine-looking token whose payload is given verbatim (already base64url). */
    forgeRawPayload(payload: string) {
      return sign({ alg: 'HS256', typ: 'at+jwt', kid: kidOf(jwt.secret!) }, payload, keyOf(jwt.secret!));
    },
  };
}
type Forger = ReturnType<typeof forgerFor>;

// --- Calling the API ------------------------------------------------------------

const realmOf = (server: Server) => new URL(server.config.appOrigin).host;

async function meWith(client: TestClient, token: string) {
  client.setCookie(ACCESS_COOKIE, token);
  return client.query<{ id: string; email: string; role: string }>('user.me');
}

// --- Shared server: one signed-in user, whose cookie each test replaces ------------

let server: Server;
let alice: Awaited<ReturnType<typeof createUser>>;
let genuine: string;
let forger: Forger;

beforeAll(async () => {
  server = await startServer({ vars: { JWT_ALG: 'HS256', ACCESS_TOKEN_TTL: String(TTL) } });
  alice = await createUser(server);
  genuine = alice.client.cookie(ACCESS_COOKIE)!;
  forger = forgerFor(server, genuine);
});
afterAll(() => server.close());

/** Per-test servers (special clock or keys), closed after each test. */
const extraServers: Server[] = [];
afterEach(async () => {
  await Promise.all(extraServers.splice(0).map((s) => s.close()));
});
async function startExtraServer(options: Parameters<typeof startServer>[0]) {
  // These forgeries are HMAC ones: the asymmetric algorithms have their own file.
  const extra = await startServer({ ...options, vars: { JWT_ALG: 'HS256', ...options?.vars } });
  extraServers.push(extra);
  return extra;
}

// --- The genuine token ----------------------------------------------------------

test('a genuine access token works and carries exactly iss, aud, sub, sid, role, iat, exp and jti', async () => {
  const res = await meWith(alice.client, genuine);
  expect(res.status).toBe(200);
  expect(res.body.result?.data).toEqual({ id: alice.user.id, email: alice.email, role: 'user' });

  expect(decodeProtectedHeader(genuine)).toEqual({
    alg: 'HS256',
    typ: 'at+jwt',
    kid: kidOf(server.config.jwt.secret!),
  });
  const payload = decodeJwt(genuine);
  expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'role', 'sid', 'sub']);
  expect(payload).toMatchObject({
    iss: server.config.jwt.issuer,
    aud: server.config.jwt.audience,
    sub: alice.user.id,
    role: 'user',
    sid: expect.any(String),
    jti: expect.any(String),
  });
  expect(payload.exp! - payload.iat!).toBe(TTL);
  expect(Math.abs(payload.iat! - epochSeconds())).toBeLessThanOrEqual(5);
  expect(JSON.stringify(payload)).not.toContain(alice.email);
});

test('a token forged here with the server key and correct claims is accepted (the control for every attack below)', async () => {
  // Proves the forger is faithful, so each refusal below is caused by its one changed detail.
  expect((await meWith(alice.client, forger.forge())).status).toBe(200);
  // The same with jose, and the key is the secret's decoded bytes.
  const { jwt } = server.config;
  const viaJose = await new SignJWT({ sid: forger.sid, role: 'user' })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: kidOf(jwt.secret!) })
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setSubject(forger.sub)
    .setIssuedAt()
    .setExpirationTime(epochSeconds() + TTL)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(keyOf(jwt.secret!));
  expect((await meWith(alice.client, viaJose)).status).toBe(200);
});

// --- Forged and tampered tokens: all 401 invalid_token --------------------------

/** Swaps the payload of a genuine token, keeping its header and signature. */
function tamper(token: string, change: Claims) {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Claims;
  return `${header}.${json64({ ...claims, ...change })}.${signature}`;
}

const unsecured = (f: Forger, header: Claims) => `${json64({ alg: 'none', ...header })}.${json64(f.claims())}.`;

test.each<[string, (f: Forger) => string | Promise<string>]>([
  // Algorithm confusion
  ['alg "none" (jose UnsecuredJWT, same claims)', (f) => new UnsecuredJWT(f.claims()).encode()],
  [
    'alg "none" with the genuine typ and kid',
    (f) => unsecured(f, { typ: 'at+jwt', kid: kidOf(server.config.jwt.secret!) }),
  ],
  [
    'alg "none" but a signature left on',
    (f) => `${unsecured(f, { typ: 'at+jwt', kid: kidOf(server.config.jwt.secret!) })}${genuine.split('.')[2]}`,
  ],
  [
    'HS512 signed with the right key (only HS256 is allowed)',
    (f) => f.forge({ header: { alg: 'HS512' }, hash: 'sha512' }),
  ],
  [
    'HS256 keyed with the secret as UTF-8 text instead of its bytes',
    (f) => f.forge({ key: Buffer.from(server.config.jwt.secret!, 'utf8') }),
  ],
  // Tampering with a genuine token
  ['the role changed to admin, original signature kept', () => tamper(genuine, { role: 'admin' })],
  ['exp pushed a day later, original signature kept', () => tamper(genuine, { exp: decodeJwt(genuine).exp! + 86_400 })],
  [
    'sub changed to another id, original signature kept',
    () => tamper(genuine, { sub: randomBytes(16).toString('base64url') }),
  ],
  ['the signature stripped', () => `${genuine.split('.').slice(0, 2).join('.')}.`],
  ['the signature of another token', (f) => `${genuine.split('.').slice(0, 2).join('.')}.${f.forge().split('.')[2]}`],
  [
    'a flipped signature byte',
    () => {
      const [h, p, s] = genuine.split('.') as [string, string, string];
      const bytes = Buffer.from(s, 'base64url');
      bytes[0]! ^= 1;
      return `${h}.${p}.${bytes.toString('base64url')}`;
    },
  ],
])('refuses %s with 401 invalid_token', async (_name, make) => {
  expect(outcome(await meWith(alice.client, await make(forger)))).toEqual(refused(server, 'invalid_token'));
});

test.each<[string, Forgery | (() => Forgery)]>([
  // iss and aud, correctly signed: only the claim is wrong
  ['another issuer', { claims: { iss: 'https://evil.example.com' } }],
  ['the issuer with a trailing slash', () => ({ claims: { iss: `${server.config.jwt.issuer}/` } })],
  ['the audience of another service', { claims: { aud: 'https://billing.example.com' } }],
  [
    'an audience list naming only other services',
    { claims: { aud: ['https://billing.example.com', 'https://mail.example.com'] } },
  ],
  ['no aud', { claims: { aud: undefined } }],
  ['no iss', { claims: { iss: undefined } }],
  // Required claims and times
  ['no exp', { claims: { exp: undefined } }],
  ['no iat', { claims: { iat: undefined } }],
  ['no sub', { claims: { sub: undefined } }],
  ['no sid', { claims: { sid: undefined } }],
  ['no jti', { claims: { jti: undefined } }],
  ['no role', { claims: { role: undefined } }],
  ['exp as a string', () => ({ claims: { exp: String(epochSeconds() + TTL) } })],
  ['an iat 60 s in the future', () => ({ claims: { iat: epochSeconds() + 60, exp: epochSeconds() + 60 + TTL } })],
  // typ and kid
  ['typ "JWT"', { header: { typ: 'JWT' } }],
  ['no typ', { header: { typ: undefined } }],
  ['an unknown kid', { header: { kid: 'AAAAAAAAAAAAAAAA' } }],
  ['the kid of a key the server never had', { header: { kid: kidOf(randomSecret()) } }],
  ['no kid', { header: { kid: undefined } }],
  ['a numeric kid', { header: { kid: 1 } }],
  // Claim types the schema must refuse (not crash on)
  ['sub as a number', { claims: { sub: 12345 } }],
  ['sub empty', { claims: { sub: '' } }],
  ['sid as an object', { claims: { sid: { id: 'x' } } }],
  ['role "superuser"', { claims: { role: 'superuser' } }],
  ['role as a list', { claims: { role: ['admin'] } }],
])('refuses a correctly signed token with %s: 401 invalid_token', async (_name, forgery) => {
  const token = forger.forge(typeof forgery === 'function' ? forgery() : forgery);
  expect(outcome(await meWith(alice.client, token))).toEqual(refused(server, 'invalid_token'));
});

test.each<[string, string]>([
  ['not JSON', Buffer.from('not json').toString('base64url')],
  ['JSON null', json64(null)],
  ['a JSON array', json64([1, 2, 3])],
  ['a JSON string', json64('claims')],
])('refuses a correctly signed token whose payload is %s: 401 invalid_token', async (_name, payload) => {
  expect(outcome(await meWith(alice.client, forger.forgeRawPayload(payload)))).toEqual(
    refused(server, 'invalid_token'),
  );
});

// --- Size ------------------------------------------------------------------------

/** A correctly signed, otherwise valid token of exactly `length` characters (padded with a claim). */
function tokenOfLength(length: number) {
  const start = Math.max(0, Math.floor(((length - forger.forge().length) * 3) / 4) - 16);
  for (let pad = start; pad < length; pad++) {
    for (let headerPad = 0; headerPad < 3; headerPad++) {
      const token = forger.forge({ header: { x: 'x'.repeat(headerPad) }, claims: { pad: 'p'.repeat(pad) } });
      if (token.length === length) return token;
      if (token.length > length + 8) break;
    }
  }
  throw new Error(`no token of ${length} characters`);
}

test('accepts a correctly signed token of exactly 4096 characters', async () => {
  const token = tokenOfLength(4096);
  expect(token).toHaveLength(4096);
  expect((await meWith(alice.client, token)).status).toBe(200);
});

test('refuses a correctly signed token of 4097 characters or more with 401 invalid_token (not 431 or 500)', async () => {
  for (const length of [4097, 12_000]) {
    const token = tokenOfLength(length);
    // Still well under Node's 16 KB header limit: the refusal is the server's, not the parser's.
    expect(token.length).toBeLessThan(16 * 1024 - 1024);
    expect(outcome(await meWith(alice.client, token)), `${length} characters`).toEqual(
      refused(server, 'invalid_token'),
    );
  }
});

// --- Garbage ---------------------------------------------------------------------

test.each<[string, string]>([
  ['abc', 'abc'],
  ['a.b.c', 'a.b.c'],
  ['..', '..'],
  ['.', '.'],
  ['....', '....'],
  ['random bytes as base64', randomBytes(96).toString('base64')],
  ['three random base64url parts', [0, 1, 2].map(() => randomBytes(24).toString('base64url')).join('.')],
  ['a header that is a JSON array', `${json64([])}.${json64({})}.sig`],
  ['a header that is not JSON', `${Buffer.from('{alg:').toString('base64url')}.${json64({})}.sig`],
  ['a JWE-shaped value (five parts)', 'a.b.c.d.e'],
  ['a percent-encoded value', '%E0%A4%A'],
  ['the word null', 'null'],
  ['"Bearer " followed by the genuine token', `Bearer%20${'GENUINE'}`],
])('refuses the garbage cookie value %s with 401 invalid_token, never 500', async (_name, value) => {
  const token = value.replace('GENUINE', genuine);
  expect(outcome(await meWith(alice.client, token))).toEqual(refused(server, 'invalid_token'));
});

test('with no access cookie, user.me is 401 missing_token with a bare Bearer challenge', async () => {
  const anonymous = createClient(server.url, server.config.appOrigin);
  const expected = {
    status: 401,
    authError: 'missing_token',
    message: 'Sign in to continue',
    wwwAuthenticate: `Bearer realm="${realmOf(server)}"`,
  };
  expect(outcome(await anonymous.query('user.me'))).toEqual(expected);

  // The same for a signed-in client that lost the cookie, or holds an empty one.
  const { client } = await createUser(server);
  client.deleteCookie(ACCESS_COOKIE);
  expect(outcome(await client.query('user.me'))).toEqual(expected);
  client.setCookie(ACCESS_COOKIE, '');
  expect(outcome(await client.query('user.me'))).toEqual(expected);
});

// --- Expiry (server clock moved by hand) ----------------------------------------

async function signedInAtClock() {
  const clock = createClock();
  const s = await startExtraServer({ vars: { ACCESS_TOKEN_TTL: String(TTL) }, clock });
  const { client } = await createUser(s);
  return { clock, server: s, client, token: client.cookie(ACCESS_COOKIE)! };
}

test('a token is refused as expired_token one second after exp', async () => {
  const { clock, server: s, client, token } = await signedInAtClock();
  clock.advance(TTL + 1);
  const res = await meWith(client, token);
  expect(outcome(res)).toEqual(refused(s, 'expired_token'));
  expect(res.headers.get('www-authenticate')).toContain('expired');
});

test('a token is refused as expired_token exactly at exp (zero clock tolerance)', async () => {
  const { clock, server: s, client, token } = await signedInAtClock();
  clock.advance(TTL);
  expect(outcome(await meWith(client, token))).toEqual(refused(s, 'expired_token'));
});

test('a token is accepted in the last second before exp', async () => {
  const { clock, client, token } = await signedInAtClock();
  clock.advance(TTL - 1);
  expect((await meWith(client, token)).status).toBe(200);
});

test('a token cached by an earlier successful call is still refused once the clock reaches exp', async () => {
  const { clock, server: s, client, token } = await signedInAtClock();
  expect((await meWith(client, token)).status).toBe(200); // verified, now cached
  clock.advance(TTL - 1);
  expect((await meWith(client, token)).status).toBe(200); // cache hit, still valid
  clock.advance(1);
  expect(outcome(await meWith(client, token))).toEqual(refused(s, 'expired_token'));
  clock.advance(3600);
  expect(outcome(await meWith(client, token))).toEqual(refused(s, 'expired_token'));
});

test('a token with an iat in the future is invalid_token until the server clock reaches that iat', async () => {
  const { clock, server: s, client, token } = await signedInAtClock();
  const f = forgerFor(s, token, clock.now);
  const iat = epochSeconds(clock.now()) + 60;
  const early = f.forge({ claims: { iat, exp: iat + TTL } });
  expect(outcome(await meWith(client, early))).toEqual(refused(s, 'invalid_token'));
  clock.advance(59);
  expect(outcome(await meWith(client, early))).toEqual(refused(s, 'invalid_token'));
  clock.advance(1);
  expect((await meWith(client, early)).status).toBe(200);
});

test('a token older than ACCESS_TOKEN_TTL is refused even when its exp is later, cached or not', async () => {
  // E.g. issued before ACCESS_TOKEN_TTL was lowered: the TTL, not the token, bounds its life.
  const { clock, server: s, client, token } = await signedInAtClock();
  const f = forgerFor(s, token, clock.now);
  const iat = epochSeconds(clock.now());
  const longLived = () => f.forge({ claims: { iat, exp: iat + 4 * TTL } });
  const [seenEarly, seenLate] = [longLived(), longLived()];
  expect((await meWith(client, seenEarly)).status).toBe(200); // young enough: accepted and cached
  clock.advance(TTL + 1);
  expect(outcome(await meWith(client, seenLate)), 'first seen after TTL').toEqual(refused(s, 'expired_token'));
  expect(outcome(await meWith(client, seenEarly)), 'cached before TTL').toEqual(refused(s, 'expired_token'));
});

// --- Key rotation ----------------------------------------------------------------

/** What `setup --rotate` records: the previous key verifies until one TTL after the rotation. */
const rotatedAt = (at: Date, ttl = TTL) => new Date(at.getTime() + ttl * 1000).toISOString();

async function rotatedServer() {
  const [current, previous] = [randomSecret(), randomSecret()];
  // The server's clock, so forged tokens are issued at the rotation time, as tokens signed
  // by the previous key just before the rotation would be.
  const clock = createClock();
  const s = await startExtraServer({
    vars: {
      JWT_SECRET: current,
      JWT_SECRET_PREVIOUS: previous,
      JWT_SECRET_PREVIOUS_UNTIL: rotatedAt(clock.now()),
      ACCESS_TOKEN_TTL: String(TTL),
    },
    clock,
  });
  const { client } = await createUser(s, { clock });
  const token = client.cookie(ACCESS_COOKIE)!;
  return { server: s, clock, client, token, current, previous, f: forgerFor(s, token, clock.now) };
}

test('with JWT_SECRET_PREVIOUS set, new tokens use the current key and tokens signed with the previous key still work', async () => {
  const { client, token, current, previous, f } = await rotatedServer();
  expect(decodeProtectedHeader(token).kid).toBe(kidOf(current));
  expect((await meWith(client, token)).status).toBe(200);
  const fromPrevious = f.forge({ secret: previous });
  expect(decodeProtectedHeader(fromPrevious).kid).toBe(kidOf(previous));
  expect((await meWith(client, fromPrevious)).status).toBe(200);
});

test('the previous key verifies nothing issued after the rotation', async () => {
  const { server: s, clock, client, previous, f } = await rotatedServer();
  clock.advance(1);
  expect(outcome(await meWith(client, f.forge({ secret: previous })))).toEqual(refused(s, 'invalid_token'));
});

test('a restart never reopens the previous key: after JWT_SECRET_PREVIOUS_UNTIL it verifies nothing, whenever the server booted', async () => {
  const { server: s, clock, previous } = await rotatedServer();
  clock.advance(TTL + 60);
  // A restart long after the window, with the same .env: the old code trusted any token
  // issued before this boot, so whoever kept the retired key could mint one now.
  const restarted = await startExtraServer({ vars: restartVars(s), clock, db: s.db });
  const { client } = await createUser(restarted, { clock });
  const f = forgerFor(restarted, client.cookie(ACCESS_COOKIE)!, () => new Date(clock.now().getTime() - 1000));
  expect(outcome(await meWith(client, f.forge({ secret: previous })))).toEqual(refused(restarted, 'invalid_token'));
  expect((await meWith(client, f.forge())).status, 'the same forgery with the current key is the control').toBe(200);
});

/** The variables of a running test server, to start another on the same database. */
function restartVars(s: Server): Record<string, string> {
  const { jwt } = s.config;
  return {
    JWT_SECRET: jwt.secret!,
    JWT_SECRET_PREVIOUS: jwt.previousSecret!,
    JWT_SECRET_PREVIOUS_UNTIL: jwt.previousSecretUntil!.toISOString(),
    ACCESS_TOKEN_TTL: String(jwt.accessTokenTtl),
  };
}

test.each<[string, (keys: { current: string; previous: string; retired: string }) => Forgery]>([
  ['signed with a retired third key (and its kid)', ({ retired }) => ({ secret: retired })],
  [
    'whose kid names the current key but signed with the previous key',
    ({ current, previous }) => ({ secret: previous, header: { kid: kidOf(current) } }),
  ],
  [
    'whose kid names the previous key but signed with the current key',
    ({ current, previous }) => ({ secret: current, header: { kid: kidOf(previous) } }),
  ],
  [
    'signed with the retired key under the current kid',
    ({ current, retired }) => ({ secret: retired, header: { kid: kidOf(current) } }),
  ],
])('with key rotation, refuses a token %s: 401 invalid_token', async (_name, forgery) => {
  const { server: s, client, current, previous, f } = await rotatedServer();
  const token = f.forge(forgery({ current, previous, retired: randomSecret() }));
  expect(outcome(await meWith(client, token))).toEqual(refused(s, 'invalid_token'));
});

test('a token issued before a key rotation works after a restart with its key as JWT_SECRET_PREVIOUS, and not once that key is retired', async () => {
  const [a, b, c] = [randomSecret(), randomSecret(), randomSecret()];
  const before = await startServer({ vars: { JWT_SECRET: a } });
  const { db } = before;
  let token: string;
  try {
    token = (await createUser(before)).client.cookie(ACCESS_COOKIE)!;
  } finally {
    await before.close({ closeDatabase: false });
  }

  const until = rotatedAt(new Date(), 900);
  const rotated = await startServer({
    vars: { JWT_SECRET: b, JWT_SECRET_PREVIOUS: a, JWT_SECRET_PREVIOUS_UNTIL: until },
    db,
  });
  try {
    const res = await meWith(createClient(rotated.url, rotated.config.appOrigin), token);
    expect(res.status).toBe(200);
  } finally {
    await rotated.close({ closeDatabase: false });
  }

  // Closes the database after the test.
  const retired = await startExtraServer({
    vars: { JWT_SECRET: c, JWT_SECRET_PREVIOUS: b, JWT_SECRET_PREVIOUS_UNTIL: until },
    db,
  });
  const res = await meWith(createClient(retired.url, retired.config.appOrigin), token);
  expect(outcome(res)).toEqual(refused(retired, 'invalid_token'));
});

// --- A valid signature is not enough: the token must name a live session of its sub ---

const SESSION_ENDED = 'The session has ended; sign in again';
const sessionEnded = (s: Server) => ({
  status: 401,
  authError: 'revoked_session',
  message: SESSION_ENDED,
  wwwAuthenticate: `Bearer realm="${realmOf(s)}", error="invalid_token", error_description="${SESSION_ENDED}"`,
});

test.each<[string, (f: Forger, other: { sub: string; sid: string }) => Claims]>([
  ['an admin whose sub and sid exist nowhere', () => ({ sub: 'forged-admin', sid: 'forged-session', role: 'admin' })],
  ['an existing user with a made-up session', (f) => ({ sub: f.sub, sid: 'forged-session' })],
  ["another user's live session", (_f, other) => ({ sid: other.sid })],
])('a correctly signed token (a leaked key) naming %s is refused: 401 revoked_session', async (_name, claims) => {
  const bob = await createUser(server);
  const { sub, sid } = decodeJwt(bob.client.cookie(ACCESS_COOKIE)!) as { sub: string; sid: string };
  const token = forger.forge({ claims: claims(forger, { sub, sid }) });
  alice.client.setCookie(ACCESS_COOKIE, token);
  expect(outcome(await alice.client.query('admin.listUsers'))).toEqual(sessionEnded(server));
  expect(outcome(await meWith(alice.client, token))).toEqual(sessionEnded(server));
});

test('an access token never outlives its session: exp is capped at SESSION_MAX_AGE', async () => {
  const clock = createClock();
  const s = await startExtraServer({ vars: { ACCESS_TOKEN_TTL: String(TTL), SESSION_MAX_AGE: '3600' }, clock });
  const { client } = await createUser(s, { clock });
  const signedInAt = epochSeconds(clock.now());
  clock.advance(3600 - 100);
  expect((await client.mutate('auth.refresh')).status).toBe(200);
  expect(decodeJwt(client.cookie(ACCESS_COOKIE)!).exp).toBe(signedInAt + 3600);
});
