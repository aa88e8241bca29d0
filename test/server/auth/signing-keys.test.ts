// Asymmetric signing (JWT_ALG=EdDSA / ES256) under attack, over real HTTP. The JWKS endpoint
// must publish public halves only (and the previous key only until its window ends); and
// algorithm confusion (an HMAC keyed with the public key, the other curve, alg "none"), a key
// the token carries or points to (jwk, jku, x5u), and the previous key used after a rotation
// must each be a 401 invalid_token on `user.me`, never a 200 and never a 500.
import { type KeyObject, createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { type Server as HttpServer, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type JWK,
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
} from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { JWKS_PATH } from '../../../server/app.ts';
import { ACCESS_COOKIE } from '../../../server/auth/cookies.ts';
import { type AsymmetricAlgorithm, generateKeyPair, publicKeyOf } from '../../../server/auth/signing-keys.ts';
import { createClient } from '../../helpers/client.ts';
import { freshKeyVars } from '../../helpers/config.ts';
import { createClock, startServer } from '../../helpers/server.ts';
import { outcome, refused } from '../../helpers/outcome.ts';
import { createUser } from '../../helpers/users.ts';

type Server = Awaited<ReturnType<typeof startServer>>;
type Clock = ReturnType<typeof createClock>;
type Claims = Record<string, unknown>;

const TTL = 600;
const ASYMMETRIC: AsymmetricAlgorithm[] = ['EdDSA', 'ES256'];
const OTHER: Record<AsymmetricAlgorithm, AsymmetricAlgorithm> = { EdDSA: 'ES256', ES256: 'EdDSA' };

// --- Keys and forging -------------------------------------------------------------

const json64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
/** A clock on a whole second, as `setup --rotate` writes its times. */
const wholeSecondClock = () => createClock(new Date(Math.floor(Date.now() / 1000) * 1000));

const newKey = (alg: AsymmetricAlgorithm) =>
  alg === 'EdDSA'
    ? generateKeyPairSync('ed25519').privateKey
    : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const privateKeyOf = (server: Server) => server.config.jwt.privateKey!;
/** The public JWK a verifier needs: kty, crv, x (and y for P-256). */
function publicJwkOf(key: KeyObject): JWK {
  const { kty, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
  return y === undefined ? { kty, crv, x } : { kty, crv, x, y };
}
/** The RFC 7638 thumbprint: the kid the server gives a key. */
const kidOf = (key: KeyObject) => calculateJwkThumbprint(publicJwkOf(key));

/**
 * Signs `header.claims` by hand with whatever key is given, whatever the header says: an HMAC
 * over raw bytes, an Ed25519 or a P-256 (JOSE r‖s) signature, or none at all.
 */
function signToken(header: Claims, claims: Claims, key: KeyObject | Buffer | null) {
  const input = `${json64(header)}.${json64(claims)}`;
  let signature: Buffer;
  if (key === null) signature = Buffer.alloc(0);
  else if (Buffer.isBuffer(key)) signature = createHmac('sha256', key).update(input).digest();
  else if (key.asymmetricKeyType === 'ed25519') signature = sign(null, Buffer.from(input), key);
  else signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

interface Forgery {
  /** Merged over the genuine header; a key set to `undefined` is left out. */
  header?: Claims;
  /** Merged over genuine claims; a key set to `undefined` is left out. */
  claims?: Claims;
  /** Signs with this key (default: the server's private key); null leaves the signature empty. */
  key?: KeyObject | Buffer | null;
}

/**
 * Tokens for one signed-in session: by default exactly what the server would issue at
 * `now` (fresh jti), signed with `key` (default: the server's current private key) under
 * that key's kid.
 */
function forgerFor(server: Server, genuineToken: string, now: () => Date, key: KeyObject = privateKeyOf(server)) {
  const { sub, sid } = decodeJwt(genuineToken);
  const { jwt } = server.config;
  const claims = (): Claims => {
    const iat = epochSeconds(now());
    const jti = randomBytes(16).toString('base64url');
    return { iss: jwt.issuer, aud: jwt.audience, sub, sid, role: 'user', iat, exp: iat + jwt.accessTokenTtl, jti };
  };
  return {
    /** The kid of the token the forger was made from: the server's. */
    genuineKid: decodeProtectedHeader(genuineToken).kid,
    forge: async (f: Forgery = {}) =>
      signToken(
        { alg: jwt.alg, typ: 'at+jwt', kid: await kidOf(key), ...f.header },
        { ...claims(), ...f.claims },
        f.key === undefined ? key : f.key,
      ),
  };
}

// --- Calling the API ---------------------------------------------------------------

/** user.me with `token` as the access cookie, from a fresh browser. */
function me(server: Server, token: string, clock?: Clock) {
  const client = createClient(server.url, server.config.appOrigin, clock);
  client.setCookie(ACCESS_COOKIE, token);
  return client.query<{ id: string }>('user.me');
}

const jwksOf = (server: Server, init?: RequestInit) => fetch(`${server.url}${JWKS_PATH}`, init);
const publishedKids = async (server: Server) =>
  ((await (await jwksOf(server)).json()) as { keys: JWK[] }).keys.map((k) => k.kid);

// --- Servers: per test, closed after it; a restart keeps the database ------------------

const running: Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
async function start(vars: Record<string, string>, clock?: Clock) {
  const server = await startServer({ vars: { ACCESS_TOKEN_TTL: String(TTL), ...vars }, clock });
  running.push(server);
  return server;
}
/** Stops `old` and starts a server with `vars` on its database (a restart after editing .env). */
async function restart(old: Server, vars: Record<string, string>, clock: Clock) {
  running.splice(running.indexOf(old), 1);
  await old.close({ closeDatabase: false });
  const server = await startServer({ db: old.db, vars: { ACCESS_TOKEN_TTL: String(TTL), ...vars }, clock });
  running.push(server);
  return server;
}

/** What `setup --rotate` writes at `now`: a new key; the old public key verifies until now + TTL. */
function rotatedVars(old: Server, now: Date): Record<string, string> {
  const alg = old.config.jwt.alg as AsymmetricAlgorithm;
  return {
    JWT_ALG: alg,
    JWT_PRIVATE_KEY: generateKeyPair(alg).privateKey,
    JWT_PUBLIC_KEY_PREVIOUS: publicKeyOf(privateKeyOf(old)),
    JWT_PUBLIC_KEY_PREVIOUS_UNTIL: new Date(now.getTime() + TTL * 1000).toISOString(),
  };
}

// --- The JWKS endpoint -------------------------------------------------------------

describe.each(ASYMMETRIC)('JWT_ALG=%s: /.well-known/jwks.json', (alg) => {
  test('publishes exactly the current public key, with kid, alg and use, and nothing private', async () => {
    const server = await start(freshKeyVars(alg));
    const res = await jwksOf(server);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await res.json()) as { keys: JWK[] };

    const key = privateKeyOf(server);
    expect(body).toEqual({ keys: [{ ...publicJwkOf(key), kid: await kidOf(key), alg, use: 'sig' }] });
    const members =
      alg === 'EdDSA' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x'] : ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'];
    expect(Object.keys(body.keys[0]!).sort()).toEqual(members);
    expect(body.keys[0]).toMatchObject(alg === 'EdDSA' ? { kty: 'OKP', crv: 'Ed25519' } : { kty: 'EC', crv: 'P-256' });
    // The private scalar appears nowhere, under any name.
    const { d } = key.export({ format: 'jwk' });
    expect(JSON.stringify(body)).not.toContain(d);
  });

  test('a token the server issued verifies with jose against the published set, as another service would', async () => {
    const server = await start(freshKeyVars(alg));
    const { client, user } = await createUser(server);
    const token = client.cookie(ACCESS_COOKIE)!;
    const jwks = createLocalJWKSet((await (await jwksOf(server)).json()) as { keys: JWK[] });
    const { issuer, audience } = server.config.jwt;

    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer,
      audience,
      algorithms: [alg],
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe(user.id);
    expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: await kidOf(privateKeyOf(server)) });

    // The control: another server's genuine token does not verify against this set.
    const other = await start(freshKeyVars(alg));
    const otherToken = (await createUser(other)).client.cookie(ACCESS_COOKIE)!;
    await expect(jwtVerify(otherToken, jwks, { issuer, audience })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  test('HEAD answers the same headers and no body', async () => {
    const server = await start(freshKeyVars(alg));
    const res = await jwksOf(server, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.text()).toBe('');
  });

  test.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s is 405 with Allow: GET, HEAD', async (method) => {
    const server = await start(freshKeyVars(alg));
    const res = await jwksOf(server, { method, body: method === 'DELETE' ? undefined : '{"keys":[]}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.text()).not.toContain('"keys"');
  });

  test('after a rotation both keys are published until JWT_PUBLIC_KEY_PREVIOUS_UNTIL, then only the current one', async () => {
    const clock = wholeSecondClock();
    const before = await start(freshKeyVars(alg), clock);
    const previousKid = await kidOf(privateKeyOf(before));
    const after = await restart(before, rotatedVars(before, clock.now()), clock);
    const currentKid = await kidOf(privateKeyOf(after));
    expect(currentKid).not.toBe(previousKid);

    expect(await publishedKids(after)).toEqual([currentKid, previousKid]);
    clock.advance(TTL - 1);
    expect(await publishedKids(after)).toEqual([currentKid, previousKid]);
    clock.advance(1); // UNTIL: the previous key verifies nothing from now on
    expect(await publishedKids(after)).toEqual([currentKid]);
  });

  test('a previous key whose window ended before the restart is not published at all', async () => {
    const clock = wholeSecondClock();
    const before = await start(freshKeyVars(alg), clock);
    const vars = rotatedVars(before, new Date(clock.now().getTime() - (TTL + 60) * 1000));
    const after = await restart(before, vars, clock);
    expect(await publishedKids(after)).toEqual([await kidOf(privateKeyOf(after))]);
  });
});

test('JWT_ALG=HS256: /.well-known/jwks.json is a plain 404 (an HMAC secret is never published)', async () => {
  const server = await start(freshKeyVars('HS256'));
  for (const method of ['GET', 'HEAD']) {
    const res = await jwksOf(server, { method });
    expect(res.status, method).toBe(404);
    expect(res.headers.get('content-type'), method).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).not.toContain('"keys"');
    expect(text).not.toContain(server.config.jwt.secret!);
  }
});

// --- Algorithm confusion and key selection -------------------------------------------

const ATTACKER = { EdDSA: newKey('EdDSA'), ES256: newKey('ES256') };

/** An attacker's key server on loopback: the jku / x5u target. It must never be asked. */
const trapRequests: string[] = [];
let trap: HttpServer;
let trapUrl: string;
beforeAll(async () => {
  trap = createServer((req, res) => {
    trapRequests.push(`${req.method} ${req.url}`);
    const keys = ASYMMETRIC.map((alg) => ({ ...publicJwkOf(ATTACKER[alg]), alg, use: 'sig' }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => trap.close(resolve));
  // Every row below ran; none made the server fetch anything.
  expect(trapRequests).toEqual([]);
});

/** Fails the row if the server fetched anything from the trap while (or just after) handling it. */
async function withNoOutboundRequest<T>(send: () => Promise<T>) {
  const before = trapRequests.length;
  const result = await send();
  await new Promise((resolve) => setTimeout(resolve, 100)); // a fetch started late would land here
  expect(trapRequests.slice(before), 'requests the server made to the jku/x5u URL').toEqual([]);
  return result;
}

type Forger = ReturnType<typeof forgerFor>;
type TokenRow = [string, () => Promise<string>];
interface Context {
  server: Server;
  forger: Forger;
  genuine: string;
}

/** The public key in every form an attacker might feed an HMAC as its secret. */
function publicKeyForms(key: KeyObject): [string, Buffer][] {
  const publicKey = createPublicKey(key);
  const jwk = publicJwkOf(key);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const raw =
    jwk.crv === 'Ed25519'
      ? Buffer.from(jwk.x!, 'base64url')
      : Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return [
    ['the SPKI DER bytes', spki],
    ['the SPKI DER as base64url text (as in JWT_PUBLIC_KEY_PREVIOUS)', Buffer.from(spki.toString('base64url'))],
    ['the PEM text', Buffer.from(pem)],
    ['the PEM text without its final newline', Buffer.from(pem.trimEnd())],
    [`the raw public key (${jwk.crv === 'Ed25519' ? '32-byte x' : 'uncompressed point'})`, raw],
    ['the x coordinate as decoded bytes', Buffer.from(jwk.x!, 'base64url')],
    ['the x coordinate as base64url text', Buffer.from(jwk.x!)],
    ['the JWK as JSON', Buffer.from(JSON.stringify(jwk))],
  ];
}

describe.each(ASYMMETRIC)('JWT_ALG=%s: forged tokens on user.me', (alg) => {
  const ctx = {} as Context;
  const clock = createClock();
  beforeAll(async () => {
    ctx.server = await startServer({ vars: { ...freshKeyVars(alg), ACCESS_TOKEN_TTL: String(TTL) }, clock });
    const { client } = await createUser(ctx.server, { clock });
    ctx.genuine = client.cookie(ACCESS_COOKIE)!;
    ctx.forger = forgerFor(ctx.server, ctx.genuine, clock.now);
  });
  afterAll(() => ctx.server.close());
  /** 401 invalid_token, and the server fetched nothing from the attacker's key server. */
  const expectRefused = (token: string) =>
    withNoOutboundRequest(async () =>
      expect(outcome(await me(ctx.server, token, clock))).toEqual(refused(ctx.server, 'invalid_token')),
    );
  const attacker = ATTACKER[alg];
  const other = OTHER[alg];

  test('the controls: the genuine token, and one forged here with the server key, are accepted', async () => {
    expect(decodeProtectedHeader(ctx.genuine)).toEqual({
      alg,
      typ: 'at+jwt',
      kid: await kidOf(privateKeyOf(ctx.server)),
    });
    expect((await me(ctx.server, ctx.genuine, clock)).status).toBe(200);
    // Proves the forger is faithful, so each refusal below is caused by its one changed detail.
    const forged = await ctx.forger.forge();
    expect(decodeProtectedHeader(forged)).toEqual(decodeProtectedHeader(ctx.genuine));
    expect((await me(ctx.server, forged, clock)).status).toBe(200);
  });

  test.each(publicKeyForms(newKey(alg)).map(([name]) => name))(
    'refuses HS256 keyed with the server public key as %s, under the real kid',
    async (name) => {
      const hmacKey = publicKeyForms(privateKeyOf(ctx.server)).find(([n]) => n === name)![1];
      await expectRefused(await ctx.forger.forge({ header: { alg: 'HS256' }, key: hmacKey }));
    },
  );

  test.each<TokenRow>([
    [
      'alg "none" with the real typ and kid, no signature',
      () => ctx.forger.forge({ header: { alg: 'none' }, key: null }),
    ],
    [
      'alg "none" with the genuine signature left on',
      async () => {
        const [header, payload] = (await ctx.forger.forge({ header: { alg: 'none' }, key: null })).split('.');
        return `${header}.${payload}.${ctx.genuine.split('.')[2]}`;
      },
    ],
    [
      `${other} signed by the attacker's ${other} key, under the server's kid`,
      () => ctx.forger.forge({ header: { alg: other }, key: ATTACKER[other] }),
    ],
    [
      `${other} signed by the attacker's ${other} key, under its own kid`,
      async () => ctx.forger.forge({ header: { alg: other, kid: await kidOf(ATTACKER[other]) }, key: ATTACKER[other] }),
    ],
    [
      `${alg} signed by the attacker's own ${alg} key, under the server's kid`,
      () => ctx.forger.forge({ key: attacker }),
    ],
    [
      `${alg} signed by the attacker's key, which a jwk header carries (its own kid)`,
      async () =>
        ctx.forger.forge({ header: { kid: await kidOf(attacker), jwk: publicJwkOf(attacker) }, key: attacker }),
    ],
    [
      `${alg} signed by the attacker's key, which a jwk header carries, under the server's kid`,
      () => ctx.forger.forge({ header: { jwk: publicJwkOf(attacker) }, key: attacker }),
    ],
    [
      `${alg} signed by the attacker's key, which a jwk header carries, and no kid`,
      () => ctx.forger.forge({ header: { kid: undefined, jwk: publicJwkOf(attacker) }, key: attacker }),
    ],
    [
      'no kid, signed by the server key (the kid is required, never guessed)',
      () => ctx.forger.forge({ header: { kid: undefined } }),
    ],
    [
      "the server's kid in another case, signed by the server key",
      () => ctx.forger.forge({ header: { kid: String(ctx.forger.genuineKid).toUpperCase() } }),
    ],
    ...(alg === 'EdDSA'
      ? ([
          [
            'alg "Ed25519" (the fully-specified name), signed by the server key: only what it issues is accepted',
            () => ctx.forger.forge({ header: { alg: 'Ed25519' } }),
          ],
        ] satisfies TokenRow[])
      : ([
          [
            "the server's own signature DER-encoded (JOSE wants r‖s)",
            async () => {
              const [header, payload] = (await ctx.forger.forge()).split('.') as [string, string];
              const der = sign('sha256', Buffer.from(`${header}.${payload}`), privateKeyOf(ctx.server));
              return `${header}.${payload}.${der.toString('base64url')}`;
            },
          ],
        ] satisfies TokenRow[])),
  ])('refuses %s with 401 invalid_token', async (_name, make) => {
    await expectRefused(await make());
  });

  test.each(['jku', 'x5u'])(
    "refuses a token signed by the attacker's key whose %s header points at its key server, and fetches nothing",
    async (member) => {
      const url = `${trapUrl}/keys`;
      await expectRefused(
        await ctx.forger.forge({ header: { kid: await kidOf(attacker), [member]: url }, key: attacker }),
      );
      // The same under the server's own kid, and with no kid at all.
      await expectRefused(await ctx.forger.forge({ header: { [member]: url }, key: attacker }));
      await expectRefused(await ctx.forger.forge({ header: { kid: undefined, [member]: url }, key: attacker }));
    },
  );

  test("refuses the other algorithm's genuine token from a server with the same issuer and audience", async () => {
    const otherServer = await start(freshKeyVars(other));
    const token = (await createUser(otherServer)).client.cookie(ACCESS_COOKIE)!;
    expect(decodeJwt(token)).toMatchObject({ iss: ctx.server.config.jwt.issuer, aud: ctx.server.config.jwt.audience });
    await expectRefused(token);
  });
});

describe('JWT_ALG=HS256: asymmetric tokens on user.me', () => {
  let server: Server;
  let forger: Forger;
  beforeAll(async () => {
    server = await startServer({ vars: { ...freshKeyVars('HS256'), ACCESS_TOKEN_TTL: String(TTL) } });
    const genuine = (await createUser(server)).client.cookie(ACCESS_COOKIE)!;
    forger = forgerFor(server, genuine, () => new Date(), ATTACKER.EdDSA);
  });
  afterAll(() => server.close());

  test.each<[string, () => Promise<Forgery>]>([
    [
      "EdDSA signed by the attacker's Ed25519 key, under the server's kid",
      async () => ({ header: { alg: 'EdDSA', kid: forger.genuineKid }, key: ATTACKER.EdDSA }),
    ],
    [
      "ES256 signed by the attacker's P-256 key, under the server's kid",
      async () => ({ header: { alg: 'ES256', kid: forger.genuineKid }, key: ATTACKER.ES256 }),
    ],
    [
      "EdDSA signed by the attacker's key, which a jwk header carries",
      async () => ({ header: { alg: 'EdDSA', jwk: publicJwkOf(ATTACKER.EdDSA) }, key: ATTACKER.EdDSA }),
    ],
    [
      "HS256 keyed with the attacker's Ed25519 public key (SPKI DER), under the server's kid",
      async () => ({
        header: { alg: 'HS256', kid: forger.genuineKid },
        key: createPublicKey(ATTACKER.EdDSA).export({ format: 'der', type: 'spki' }),
      }),
    ],
  ])('refuses %s with 401 invalid_token', async (_name, forgery) => {
    const token = await forger.forge(await forgery());
    expect(outcome(await me(server, token))).toEqual(refused(server, 'invalid_token'));
  });
});

// --- Rotation ----------------------------------------------------------------------

describe.each(ASYMMETRIC)('JWT_ALG=%s: key rotation', (alg) => {
  /** Signs in on key A at the rotation time, then restarts on key B with A as the previous key. */
  async function rotatedServer() {
    const clock = wholeSecondClock();
    const before = await start(freshKeyVars(alg), clock);
    const { client } = await createUser(before, { clock });
    const token = client.cookie(ACCESS_COOKIE)!;
    const previousKey = privateKeyOf(before);
    const rotatedAt = clock.now();
    const after = await restart(before, rotatedVars(before, rotatedAt), clock);
    return {
      clock,
      token,
      previousKey,
      rotatedAt,
      server: after,
      forger: forgerFor(after, token, clock.now, previousKey),
    };
  }

  test('a token the previous key issued before the rotation works until the window ends, then is refused', async () => {
    const { clock, token, server } = await rotatedServer();
    expect((await me(server, token, clock)).status).toBe(200);

    // New sign-ins get the new key.
    const { client } = await createUser(server, { clock });
    expect(decodeProtectedHeader(client.cookie(ACCESS_COOKIE)!).kid).toBe(await kidOf(privateKeyOf(server)));

    clock.advance(TTL - 1);
    expect((await me(server, token, clock)).status).toBe(200);
    clock.advance(1);
    expect(outcome(await me(server, token, clock))).toEqual(refused(server, 'expired_token'));
  });

  test('a token signed with the previous key but issued after the rotation is refused', async () => {
    const { clock, server, forger, rotatedAt } = await rotatedServer();
    const iat = epochSeconds(rotatedAt);
    // The control: issued at the rotation second, it is one the old server could have issued.
    expect((await me(server, await forger.forge({ claims: { iat, exp: iat + TTL } }), clock)).status).toBe(200);

    clock.advance(1);
    expect(outcome(await me(server, await forger.forge(), clock))).toEqual(refused(server, 'invalid_token'));
    clock.advance(TTL / 2);
    expect(outcome(await me(server, await forger.forge(), clock))).toEqual(refused(server, 'invalid_token'));
  });

  test('once the window has ended, nothing the previous key signs is accepted, whatever its iat and exp', async () => {
    const { clock, server, forger, rotatedAt } = await rotatedServer();
    clock.advance(TTL + 1);
    const rotation = epochSeconds(rotatedAt);
    const now = epochSeconds(clock.now());
    for (const [what, claims, reason] of [
      ['issued at the rotation', { iat: rotation, exp: rotation + TTL }, 'expired_token'],
      ['issued at the rotation, exp stretched to the future', { iat: rotation, exp: now + TTL }, 'expired_token'],
      ['issued now', { iat: now, exp: now + TTL }, 'invalid_token'],
      ['issued just before the window ended', { iat: now - 2, exp: now - 2 + TTL }, 'invalid_token'],
    ] as const) {
      expect(outcome(await me(server, await forger.forge({ claims }), clock)), what).toEqual(refused(server, reason));
    }
  });

  test('a token signed by a key rotated out earlier (no longer the previous one) is refused', async () => {
    const { clock, server: b, forger: signedByA } = await rotatedServer();
    clock.advance(TTL); // A's window is over: `setup --rotate` may rotate again
    const c = await restart(b, rotatedVars(b, clock.now()), clock);
    const { client } = await createUser(c, { clock });
    const keyA = signedByA.forge;
    const signedByB = forgerFor(c, client.cookie(ACCESS_COOKIE)!, clock.now, privateKeyOf(b));

    // B, now the previous key, still verifies a token issued before this rotation...
    const iat = epochSeconds(clock.now());
    expect((await me(c, await signedByB.forge({ claims: { iat, exp: iat + TTL } }), clock)).status).toBe(200);
    // ...but A verifies nothing, even with an iat from its own time.
    expect(outcome(await me(c, await keyA(), clock))).toEqual(refused(c, 'invalid_token'));
    expect(outcome(await me(c, await keyA({ claims: { iat: iat - 1, exp: iat - 1 + TTL } }), clock))).toEqual(
      refused(c, 'invalid_token'),
    );
  });

  test('after an emergency rotation (--drop-previous) the old key verifies nothing', async () => {
    const clock = wholeSecondClock();
    const before = await start(freshKeyVars(alg), clock);
    const { client } = await createUser(before, { clock });
    const token = client.cookie(ACCESS_COOKIE)!;
    const after = await restart(before, freshKeyVars(alg), clock);
    expect(outcome(await me(after, token, clock))).toEqual(refused(after, 'invalid_token'));
    expect(await publishedKids(after)).toEqual([await kidOf(privateKeyOf(after))]);
  });
});
