// The attack checklist: one row per attack an auditor would try (RFC 8725 JWT BCP,
// RFC 6750 bearer tokens, RFC 9068 access-token profile, OWASP ASVS 5.0), each a crafted
// request and the exact status, WWW-Authenticate challenge and `error.data.authError`
// it must get. No row may ever be a 500. Finer-grained token tests live in
// test/server/auth/access-tokens.test.ts; the forging helpers below are copied from it.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type IncomingHttpHeaders, type Server as HttpServer, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../../server/auth/cookies.ts';
import { AUTH_ERRORS, type AuthErrorCode } from '../../server/auth/errors.ts';
import { type CallResult, createClient, randomIp } from '../helpers/client.ts';
import { nextMailTo, tokenFromLink } from '../helpers/mail.ts';
import { createClock, startServer } from '../helpers/server.ts';
import { PASSWORD, createUser } from '../helpers/users.ts';

type Server = Awaited<ReturnType<typeof startServer>>;
type Claims = Record<string, unknown>;

const TTL = 600;
const REALM = 'localhost:5173';

// --- What a row expects ---------------------------------------------------------------

interface Expected {
  status: number;
  /** The exact challenge, or null when the header must be absent. */
  wwwAuthenticate: string | null;
  authError: AuthErrorCode | null;
  /** Checked only when given. */
  message?: string;
}
interface Outcome {
  status: number;
  wwwAuthenticate: string | null;
  authError: string | null;
  message: string | null;
}

const refusedAs = (code: AuthErrorCode, description: string = AUTH_ERRORS[code].message): Expected => ({
  status: 401,
  wwwAuthenticate: `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`,
  authError: code,
});
const INVALID = refusedAs('invalid_token');
const EXPIRED = refusedAs('expired_token');
const REVOKED = refusedAs('revoked_session');
const ACCEPTED: Expected = { status: 200, wwwAuthenticate: null, authError: null };
/** Refused by the HTTP layer or by input validation: no challenge, no auth reason. */
const plain = (status: number): Expected => ({ status, wwwAuthenticate: null, authError: null });
const BAD_CREDENTIALS: Expected = {
  status: 401,
  wwwAuthenticate: `Bearer realm="${REALM}"`,
  authError: null,
  message: 'Invalid e-mail or password',
};

// --- Forging tokens (copied from access-tokens.test.ts) --------------------------------

const json64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
/** The server's key id: a public name derived from the secret. */
const kidOf = (secret: string) => createHash('sha256').update(`kid:${secret}`).digest('base64url').slice(0, 16);
/** The HMAC key the server uses: the secret's decoded bytes, not its text. */
const keyOf = (secret: string) => Buffer.from(secret, 'base64url');
const hs256 = (input: string, key: Buffer) => createHmac('sha256', key).update(input).digest('base64url');

/** Signs two segments exactly as given, so nothing stops us from signing nonsense. */
const signSegments = (header: string, payload: string, key: Buffer) =>
  `${header}.${payload}.${hs256(`${header}.${payload}`, key)}`;

const ourKey = () => keyOf(server.config.jwt.secret!);
const ourHeader = (): Claims => ({ alg: 'HS256', typ: 'at+jwt', kid: kidOf(server.config.jwt.secret!) });

/** Exactly the claims the server would issue to alice now (fresh jti). */
function aliceClaims(): Claims {
  const { sub, sid } = decodeJwt(aliceToken);
  const iat = epochSeconds(clock.now());
  const { issuer, audience } = server.config.jwt;
  return {
    iss: issuer,
    aud: audience,
    sub,
    sid,
    role: 'user',
    iat,
    exp: iat + TTL,
    jti: randomBytes(16).toString('base64url'),
  };
}

/** Merges over alice's genuine header and claims; signs with `key` (default: the server's). */
function forge(f: { header?: Claims; claims?: Claims; key?: Buffer } = {}) {
  return signSegments(
    json64({ ...ourHeader(), ...f.header }),
    json64({ ...aliceClaims(), ...f.claims }),
    f.key ?? ourKey(),
  );
}

/** Unsigned: `alg` as given, genuine typ/kid and claims, empty signature. */
const unsigned = (alg: string) => `${json64({ ...ourHeader(), alg })}.${json64(aliceClaims())}.`;

const segments = (token: string) => token.split('.') as [string, string, string];
/** Alice's genuine claims under a header segment spelled exactly as given, correctly signed. */
const withHeaderSegment = (header: string) => signSegments(header, json64(aliceClaims()), ourKey());
/** A genuine header over a payload segment spelled exactly as given, correctly signed. */
const withPayloadSegment = (payload: string) => signSegments(json64(ourHeader()), payload, ourKey());

/** A base64url JSON segment containing `char`, found by padding the JSON until one appears. */
function segmentContaining(value: Claims, char: '-' | '_') {
  const filler = char === '-' ? '~' : '?'; // 0x7e / 0x3f encode to runs of '-' / '_'
  for (let n = 1; n < 16; n++) {
    const segment = json64({ ...value, pad: filler.repeat(n) });
    if (segment.includes(char)) return segment;
  }
  throw new Error(`no segment containing ${char}`);
}

/** A base64url JSON segment whose length needs `=` padding, with that padding added. */
function paddedSegment(value: Claims) {
  for (let n = 0; n < 4; n++) {
    const segment = json64({ ...value, pad: 'p'.repeat(n) });
    if (segment.length % 4 !== 0) return segment + '='.repeat(4 - (segment.length % 4));
  }
  throw new Error('no segment needing padding');
}

/** A correctly signed token whose signature contains `char` (the signatures vary with jti). */
function tokenWithSignatureContaining(char: '-' | '_') {
  for (let i = 0; i < 1000; i++) {
    const token = forge();
    if (segments(token)[2].includes(char)) return token;
  }
  throw new Error(`no signature containing ${char}`);
}

/**
 * The same token, spelled differently: 32 signature bytes fill 42 base64url characters
 * and 4 bits of the 43rd, whose 2 low bits are unused. Changing only those bits changes
 * the string but not the decoded signature (decoders discard them).
 */
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function respell(token: string) {
  const i = B64URL.indexOf(token.at(-1)!);
  const respelled = token.slice(0, -1) + B64URL[(i & 0b111100) | ((i + 1) & 0b11)];
  expect(Buffer.from(segments(respelled)[2], 'base64url')).toEqual(Buffer.from(segments(token)[2], 'base64url'));
  expect(respelled).not.toBe(token);
  return respelled;
}

// --- An attacker's key server on loopback: the jku / x5u target ------------------------

const ATTACKER_KID = 'attacker-key';
const attackerKey = randomBytes(32);
const attackerJwk = { kty: 'oct', kid: ATTACKER_KID, alg: 'HS256', k: attackerKey.toString('base64url') };
const trapRequests: string[] = [];
let trap: HttpServer;
let trapUrl: string;

/** Fails the row if the server fetched anything from the trap while (or just after) handling it. */
async function withNoOutboundRequest(send: () => Promise<Outcome>) {
  const before = trapRequests.length;
  const outcome = await send();
  await new Promise((resolve) => setTimeout(resolve, 100)); // a fetch started late would land here
  expect(trapRequests.slice(before), 'requests the server made to the jku/x5u URL').toEqual([]);
  return outcome;
}

// --- Sending requests ------------------------------------------------------------------

function outcomeOf(res: CallResult): Outcome {
  return {
    status: res.status,
    wwwAuthenticate: res.headers.get('www-authenticate'),
    authError: res.body.error?.data.authError ?? null,
    message: res.body.error?.message ?? null,
  };
}

/** user.me with `token` as the access cookie, from a fresh browser. */
async function me(token: string) {
  const client = createClient(server.url, server.config.appOrigin, clock);
  client.setCookie(ACCESS_COOKIE, token);
  return outcomeOf(await client.query('user.me'));
}

/** auth.refresh with `token` as the refresh cookie, from a fresh browser. */
async function refreshWith(token: string) {
  const client = createClient(server.url, server.config.appOrigin, clock);
  client.setCookie(REFRESH_COOKIE, token, REFRESH_COOKIE_PATH);
  return outcomeOf(await client.mutate('auth.refresh'));
}

function outcomeOfRaw(status: number, headers: IncomingHttpHeaders, text: string): Outcome {
  let body: { error?: { message?: string; data?: { authError?: string | null } } } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // 431 and other responses written by Node itself are not JSON.
  }
  const challenge = headers['www-authenticate'];
  return {
    status,
    wwwAuthenticate: typeof challenge === 'string' ? challenge : null,
    authError: body.error?.data?.authError ?? null,
    message: body.error?.message ?? null,
  };
}

/**
 * A request written with node:http, which sends whatever headers it is given (fetch
 * would add its own). `sendBytes` sends only that much of the body, then waits.
 */
function raw(
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body = '',
  sendBytes = body.length,
) {
  return new Promise<Outcome>((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method,
      agent: false,
      headers: {
        'x-forwarded-for': randomIp(),
        ...(method === 'POST' ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
        ...headers,
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no response within 3 s (sent ${sendBytes} of ${body.length} body bytes)`));
    }, 3000);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        resolve(outcomeOfRaw(res.statusCode ?? 0, res.headers, text));
      });
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.write(body.slice(0, sendBytes));
    if (sendBytes === body.length) req.end();
  });
}

const sameOrigin = () => ({ origin: server.config.appOrigin, 'content-type': 'application/json' });
const loginBody = (email: string, password: string) => JSON.stringify({ email, password });
const login = (email: string, password: string) =>
  raw('POST', '/trpc/auth.login', sameOrigin(), loginBody(email, password));

async function expectHealthy() {
  const res = await fetch(`${server.url}/trpc/health`);
  expect(res.status, 'health after the attack').toBe(200);
}

/**
 * Sends a forged cross-site request carrying a fresh victim's access cookie, then checks
 * the victim is still signed in. A fresh victim per row: a broken defence must fail its
 * own row, not sign alice out for every row after it.
 */
async function asVictim(attack: (cookie: string) => Promise<Outcome>) {
  const token = (await createUser(server, { clock })).client.cookie(ACCESS_COOKIE)!;
  const outcome = await attack(`${ACCESS_COOKIE}=${token}`);
  expect((await me(token)).status, "the victim's session after the attack").toBe(200);
  return outcome;
}

/** Fails the row if a password was hashed or verified while it ran. */
async function withNoHashing(send: () => Promise<Outcome>) {
  const hash = vi.spyOn(server.services.passwords, 'hash');
  const verify = vi.spyOn(server.services.passwords, 'verify');
  try {
    const outcome = await send();
    expect(hash, 'passwords.hash calls').not.toHaveBeenCalled();
    expect(verify, 'passwords.verify calls').not.toHaveBeenCalled();
    return outcome;
  } finally {
    hash.mockRestore();
    verify.mockRestore();
  }
}

/** Signs up through the mailed link with one spelling of a password and signs in with another. */
async function registerThenLogin(registered: string, typed: string) {
  const email = `unicode-${randomBytes(4).toString('hex')}@example.com`;
  const client = createClient(server.url, server.config.appOrigin, clock);
  expect((await client.mutate('auth.register', { email })).status).toBe(200);
  const token = tokenFromLink((await nextMailTo(server, email)).link);
  const completed = await client.mutate('auth.completeRegistration', { token, password: registered });
  expect(completed.status).toBe(200);
  return login(email, typed);
}

// --- Shared server: one clock that never moves, one signed-in user -----------------------

const clock = createClock();
let server: Server;
let aliceEmail: string;
let aliceToken: string;

beforeAll(async () => {
  server = await startServer({ vars: { JWT_ALG: 'HS256', ACCESS_TOKEN_TTL: String(TTL) }, clock });
  expect(server.services.realm).toBe(REALM);
  const alice = await createUser(server, { clock });
  aliceEmail = alice.email;
  aliceToken = alice.client.cookie(ACCESS_COOKIE)!;

  trap = createServer((req, res) => {
    trapRequests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attackerJwk] }));
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => trap.close(resolve));
  await server.close();
});

// --- The checklist ---------------------------------------------------------------------

interface AttackRow {
  ref: string;
  attack: string;
  send: () => Promise<Outcome>;
  expected: Expected;
}

const EVIL_ORIGIN = 'https://evil.example';
const OTHER_AUDIENCE = 'https://billing.example.com';
const SQL_INJECTIONS = { tautology: "' OR '1'='1", drop: '"; DROP TABLE users; --' };
const CAFE_NFC = 'café crème brûlée'.normalize('NFC');
const CAFE_NFD = CAFE_NFC.normalize('NFD');

const rows: AttackRow[] = [
  // Algorithm confusion: the verifier, not the token, picks the algorithm.
  ...['none', 'None', 'NONE', 'nOnE'].map((alg) => ({
    ref: 'RFC 8725 §3.1, RFC 9068 §4, ASVS 9.1.2',
    attack: `alg "${alg}", unsigned, genuine claims`,
    send: () => me(unsigned(alg)),
    expected: INVALID,
  })),
  {
    ref: 'RFC 8725 §2.1, ASVS 9.1.1',
    attack: 'genuine header and payload, empty signature (a.b.)',
    send: () => me(`${segments(aliceToken).slice(0, 2).join('.')}.`),
    expected: INVALID,
  },

  // Structure: exactly three segments, each unpadded base64url (RFC 7515 §2, §7.1). The
  // header and payload rows are signed with the real key, so only the spelling is wrong.
  {
    ref: 'RFC 7515 §7.1',
    attack: 'two segments (signature removed with its dot)',
    send: () => me(segments(aliceToken).slice(0, 2).join('.')),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §7.1',
    attack: 'four segments (genuine token plus one)',
    send: () => me(`${aliceToken}.${segments(aliceToken)[2]}`),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §2',
    attack: "header spelled with '+' (standard base64), correctly signed",
    send: () => me(withHeaderSegment(segmentContaining(ourHeader(), '-').replaceAll('-', '+'))),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §2',
    attack: "payload spelled with '/' (standard base64), correctly signed",
    send: () => me(withPayloadSegment(segmentContaining(aliceClaims(), '_').replaceAll('_', '/'))),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §2',
    attack: "signature re-spelled with '+' for '-'",
    send: () => me(tokenWithSignatureContaining('-').replace(/-(?=[^.]*$)/g, '+')),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §2',
    attack: "signature re-spelled with '/' for '_'",
    send: () => me(tokenWithSignatureContaining('_').replace(/_(?=[^.]*$)/g, '/')),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §2',
    attack: "header with '=' padding, correctly signed",
    send: () => me(withHeaderSegment(paddedSegment(ourHeader()))),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §2',
    attack: "payload with '=' padding, correctly signed",
    send: () => me(withPayloadSegment(paddedSegment(aliceClaims()))),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §2',
    attack: "genuine token with '=' padding added to the signature",
    send: () => me(`${aliceToken}=`),
    expected: INVALID,
  },

  // Key selection: never a key the token itself names or carries.
  {
    ref: 'RFC 8725 §2.9, §3.10, ASVS 9.1.3',
    attack: "embedded jwk (the attacker's own key, token signed with it)",
    send: () =>
      withNoOutboundRequest(() => me(forge({ header: { kid: ATTACKER_KID, jwk: attackerJwk }, key: attackerKey }))),
    expected: INVALID,
  },
  {
    ref: 'RFC 8725 §2.9, §3.10, ASVS 9.1.3',
    attack: 'embedded jwk under our kid, signed with the embedded key',
    send: () => withNoOutboundRequest(() => me(forge({ header: { jwk: attackerJwk }, key: attackerKey }))),
    expected: INVALID,
  },
  {
    ref: 'RFC 8725 §2.9, §3.10, ASVS 9.1.3',
    attack: "jku pointing at the attacker's JWKS (no fetch: SSRF)",
    send: () =>
      withNoOutboundRequest(() =>
        me(forge({ header: { kid: ATTACKER_KID, jku: `${trapUrl}/jwks.json` }, key: attackerKey })),
      ),
    expected: INVALID,
  },
  {
    ref: 'RFC 8725 §2.9, §3.10, ASVS 9.1.3',
    attack: "x5u pointing at the attacker's certificate (no fetch: SSRF)",
    send: () =>
      withNoOutboundRequest(() =>
        me(forge({ header: { kid: ATTACKER_KID, x5u: `${trapUrl}/cert.pem` }, key: attackerKey })),
      ),
    expected: INVALID,
  },
  {
    ref: 'RFC 7515 §4.1.11',
    attack: 'crit naming an unknown extension, correctly signed',
    send: () => me(forge({ header: { crit: ['exp-extension'], 'exp-extension': epochSeconds(clock.now()) + 86_400 } })),
    expected: INVALID,
  },
  // Hostile kids, signed with the real key so only the kid is wrong.
  ...[
    ['path traversal', '../../../../etc/passwd'],
    ['SQL tautology', SQL_INJECTIONS.tautology],
    ['SQL statement', SQL_INJECTIONS.drop],
    ['10 KB long (cookie still under 16 KB)', 'k'.repeat(10 * 1024)],
  ].map(([what, kid]) => ({
    ref: 'RFC 8725 §2.9, §3.10',
    attack: `kid ${what}`,
    send: async () => {
      const token = forge({ header: { kid } });
      expect(token.length).toBeLessThan(16 * 1024 - 1024);
      return me(token);
    },
    expected: INVALID,
  })),
  {
    ref: 'RFC 8725 §2.2, §3.5',
    attack: 'signed with a 1-byte key under the right kid',
    send: () => me(forge({ key: Buffer.from([0x61]) })),
    expected: INVALID,
  },

  // Audience (RFC 9068 §4: aud must contain this resource server).
  {
    ref: 'RFC 9068 §4, ASVS 9.2.3',
    attack: 'aud lists our audience and another service (accepted)',
    send: () => me(forge({ claims: { aud: [OTHER_AUDIENCE, server.config.jwt.audience] } })),
    expected: ACCEPTED,
  },
  {
    ref: 'RFC 9068 §4, ASVS 9.2.3',
    attack: 'aud lists another service and our audience with a trailing slash',
    send: () => me(forge({ claims: { aud: [OTHER_AUDIENCE, `${server.config.jwt.audience}/`] } })),
    expected: INVALID,
  },

  // Lifetime and revocation.
  {
    ref: 'RFC 7519 §4.1.4, ASVS 9.2.1',
    attack: 'exp equal to now (iat = now - TTL)',
    send: () => me(forge({ claims: { iat: epochSeconds(clock.now()) - TTL, exp: epochSeconds(clock.now()) } })),
    expected: EXPIRED,
  },
  {
    ref: 'control for the next row',
    attack: 'a live token with its signature re-spelled (unused trailing bits flipped) is the same token',
    send: async () => {
      const { client } = await createUser(server, { clock });
      return me(respell(client.cookie(ACCESS_COOKIE)!));
    },
    expected: ACCEPTED,
  },
  {
    ref: 'ASVS 7.4.1',
    attack: 'a revoked token re-spelled to dodge a revocation or cache keyed on the token string',
    send: async () => {
      const { client } = await createUser(server, { clock });
      const token = client.cookie(ACCESS_COOKIE)!;
      expect((await me(token)).status, 'before logout').toBe(200); // verified, now cached
      expect((await client.mutate('auth.logout')).status, 'logout').toBe(200);
      return me(respell(token));
    },
    expected: REVOKED,
  },

  // Token substitution: each token only where it belongs.
  {
    ref: 'RFC 8725 §2.8, ASVS 9.2.2',
    attack: 'an access token presented as the refresh token',
    send: async () => refreshWith((await createUser(server, { clock })).client.cookie(ACCESS_COOKIE)!),
    // auth.refresh words its own description (server/routers/auth.ts, refreshRefused).
    expected: refusedAs('invalid_token', 'The refresh token is invalid or expired'),
  },
  {
    ref: 'RFC 8725 §2.8, ASVS 9.2.2',
    attack: 'a refresh token presented as the access token',
    send: async () => me((await createUser(server, { clock })).client.cookie(REFRESH_COOKIE)!),
    expected: INVALID,
  },

  // The HTTP layer.
  {
    ref: 'RFC 6585 §5, ASVS 2.4.1',
    attack: 'a 20 KB Cookie header (the server stays up)',
    send: async () => {
      const outcome = await raw('GET', '/trpc/user.me', { cookie: `${ACCESS_COOKIE}=${'a'.repeat(20 * 1024)}` });
      await expectHealthy();
      return outcome;
    },
    expected: plain(431), // Node's own header limit (16 KB), before any of our code runs
  },
  {
    ref: 'ASVS 3.5.3 (CSRF)',
    attack: 'GET on a mutation: auth.logout via an <img> tag',
    send: () => asVictim((cookie) => raw('GET', '/trpc/auth.logout', { cookie })),
    expected: plain(405),
  },
  {
    ref: 'ASVS 3.5.3, 14.2.1',
    attack: 'GET on a mutation: auth.login with the credentials in the query string',
    send: () => raw('GET', `/trpc/auth.login?input=${encodeURIComponent(loginBody(aliceEmail, PASSWORD))}`, {}),
    expected: plain(405),
  },
  // What a plain HTML form can send, even from our own origin (an injected <form>).
  ...[
    ['text/plain', 'text/plain', '{}'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'x=1'],
    [
      'multipart/form-data',
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--x--\r\n',
    ],
  ].map(([what, type, body]) => ({
    ref: 'ASVS 3.5.2 (CSRF)',
    attack: `same-origin POST to auth.logout with a ${what} body`,
    send: () =>
      asVictim((cookie) =>
        raw('POST', '/trpc/auth.logout', { origin: server.config.appOrigin, 'content-type': type!, cookie }, body),
      ),
    expected: plain(415),
  })),
  {
    ref: 'ASVS 3.5.1 (CSRF)',
    attack: `cross-site POST to auth.logout (Origin ${EVIL_ORIGIN})`,
    send: () =>
      asVictim((cookie) =>
        raw('POST', '/trpc/auth.logout', { origin: EVIL_ORIGIN, 'content-type': 'application/json', cookie }, '{}'),
      ),
    expected: plain(403),
  },
  {
    ref: 'ASVS 3.5.1 (CSRF)',
    attack: 'POST to auth.logout with no Origin header',
    send: () =>
      asVictim((cookie) => raw('POST', '/trpc/auth.logout', { 'content-type': 'application/json', cookie }, '{}')),
    expected: plain(403),
  },

  // Login input.
  {
    ref: 'ASVS 1.2.4',
    attack: 'login with a SQL tautology as the e-mail',
    send: () => login(SQL_INJECTIONS.tautology, SQL_INJECTIONS.tautology),
    expected: plain(400),
  },
  {
    ref: 'ASVS 1.2.4',
    attack: 'login with a DROP TABLE statement as the e-mail',
    send: () => login(SQL_INJECTIONS.drop, PASSWORD),
    expected: plain(400),
  },
  {
    ref: 'ASVS 1.2.4',
    attack: "login with a valid-looking e-mail ending the SQL string (admin'--@…)",
    send: () => login("admin'--@example.com", SQL_INJECTIONS.tautology),
    expected: BAD_CREDENTIALS,
  },
  {
    ref: 'ASVS 1.2.4',
    attack: 'login as a real user with a SQL tautology as the password (and the users table survives)',
    send: async () => {
      const outcome = await login(aliceEmail, `${SQL_INJECTIONS.tautology} --`);
      expect((await me(aliceToken)).status, 'user.me after the injection').toBe(200);
      return outcome;
    },
    expected: BAD_CREDENTIALS,
  },
  {
    ref: 'ASVS 2.4.1, OWASP API4:2023',
    attack: 'a 1 MB password: 413, nothing hashed',
    send: () => withNoHashing(() => login(aliceEmail, 'x'.repeat(1024 * 1024))),
    expected: plain(413),
  },
  {
    ref: 'ASVS 2.4.1, OWASP API4:2023',
    attack: 'a 1 MB password declared in Content-Length: 413 before the body is read',
    // Only 1 KB of the body is sent: a server that read the body before refusing would wait for the rest.
    send: () =>
      withNoHashing(() =>
        raw('POST', '/trpc/auth.login', sameOrigin(), loginBody(aliceEmail, 'x'.repeat(1024 * 1024)), 1024),
      ),
    expected: plain(413),
  },
  {
    ref: 'NIST SP 800-63B §5.1.1.2',
    attack: 'password registered in NFC, typed in NFD',
    send: () => registerThenLogin(CAFE_NFC, CAFE_NFD),
    expected: ACCEPTED,
  },
  {
    ref: 'NIST SP 800-63B §5.1.1.2',
    attack: 'password registered in NFD, typed in NFC',
    send: () => registerThenLogin(CAFE_NFD, CAFE_NFC),
    expected: ACCEPTED,
  },
  {
    ref: 'ASVS 6.3.1, 2.4.1',
    attack: 'a batch of 11 queries (over the maximum of 10)',
    send: () => raw('GET', `/trpc/${Array(11).fill('health').join(',')}?batch=1`, {}),
    expected: plain(400),
  },
  {
    ref: 'ASVS 6.3.1, 2.4.1',
    attack: 'a batch of 11 login guesses in one request',
    send: () => {
      const guesses = Object.fromEntries(
        Array.from({ length: 11 }, (_, i) => [i, { email: aliceEmail, password: `guess-${i}` }]),
      );
      return withNoHashing(() =>
        raw('POST', `/trpc/${Array(11).fill('auth.login').join(',')}?batch=1`, sameOrigin(), JSON.stringify(guesses)),
      );
    },
    expected: plain(400),
  },
];

test.each(rows.map((row) => [`${row.attack} [${row.ref}]`, row] as const))('%s', async (_name, { send, expected }) => {
  const outcome = await send();
  expect(outcome.status, 'never a 500').not.toBe(500);
  expect(outcome).toMatchObject(expected);
});

test('no row made the server fetch a key from the jku / x5u URL', () => {
  expect(trapRequests).toEqual([]);
});
