// Two services, one key pair: the API signs with its Ed25519 key, and the reports service
// (examples/reports-service, spawned as its own process with no secret at all) verifies with
// the API's JWKS. Each token is good at one audience only, and a key rotation breaks nothing.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWK, SignJWT, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createReportsService } from '../../examples/reports-service/service.ts';
import { ACCESS_COOKIE } from '../../server/auth/cookies.ts';
import { createClient } from '../helpers/client.ts';
import { freshKeyVars, sameKeyVars } from '../helpers/config.ts';
import { ROOT, type SpawnedServer, createClock, freePort, spawnScript, startServer } from '../helpers/server.ts';
import { PASSWORD, createUser } from '../helpers/users.ts';

type Api = Awaited<ReturnType<typeof startServer>>;

let apiPort: number;
let reportsUrl: string;
let services: string;
let reports: SpawnedServer;
let api: Api;
const clock = createClock();

/** The variables the reports service gets: where the keys are, who issues, who it is. Nothing secret. */
let reportsEnv: Record<string, string>;

beforeAll(async () => {
  [apiPort] = await Promise.all([freePort()]);
  const reportsPort = await freePort();
  reportsUrl = `http://127.0.0.1:${reportsPort}`;
  // `billing` is declared but never started: its tokens only need to exist.
  services = `reports=${reportsUrl},billing=https://billing.example`;
  api = await startServer({ vars: { ...freshKeyVars('EdDSA'), JWT_SERVICES: services }, clock, port: apiPort });
  reportsEnv = {
    REPORTS_JWKS_URL: `http://127.0.0.1:${apiPort}/.well-known/jwks.json`,
    REPORTS_ISSUER: api.config.jwt.issuer,
    REPORTS_AUDIENCE: reportsUrl,
    REPORTS_ALG: 'EdDSA',
    PORT: String(reportsPort),
  };
  reports = spawnScript('examples/reports-service/main.ts', ROOT, reportsEnv);
  expect(await reports.url, reports.output()).toBe(reportsUrl);
});
afterAll(async () => {
  reports?.child.kill('SIGTERM');
  await reports?.exitCode;
  await api?.close();
});

/** Signs in as a native client and returns its bearer access token. */
async function nativeSignIn(server: Api, email: string) {
  const res = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-transport': 'bearer' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const body = (await res.json()) as { result: { data: { tokens: { accessToken: string } } } };
  return body.result.data.tokens.accessToken;
}

/** `auth.exchangeToken` for `service`, as a native client holding `accessToken`. */
async function exchange(server: Api, accessToken: string, service: string) {
  const res = await fetch(`${server.url}/trpc/auth.exchangeToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ service }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { result: { data: { accessToken: string; audience: string } } }).result.data;
}

const askReports = (token?: string) =>
  fetch(`${reportsUrl}/summary`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

test('reports.summary: the API calls the reports service with a token for that service, on the user’s behalf', async () => {
  const { client, user } = await createUser(api, { clock });
  const res = await client.query<{ userId: string; reports: unknown[] }>('reports.summary');
  expect(res.status).toBe(200);
  expect(res.body.result?.data.userId).toBe(user.id);
  expect(res.body.result?.data.reports.length).toBeGreaterThan(0);
});

test('the service accepts a token exchanged for its own audience, and refuses the API’s token and another service’s', async () => {
  const { email, client, user } = await createUser(api, { clock });
  const accessToken = await nativeSignIn(api, email);

  const forReports = await exchange(api, accessToken, 'reports');
  expect(decodeJwt(forReports.accessToken)).toMatchObject({ aud: reportsUrl, sub: user.id });
  const accepted = await askReports(forReports.accessToken);
  expect(accepted.status).toBe(200);
  expect(((await accepted.json()) as { userId: string }).userId).toBe(user.id);

  const refusals = {
    'the API’s own bearer token': accessToken,
    'the API’s own cookie token': client.cookie(ACCESS_COOKIE)!,
    'a token for billing': (await exchange(api, accessToken, 'billing')).accessToken,
  };
  for (const [what, token] of Object.entries(refusals)) {
    const res = await askReports(token);
    expect(res.status, what).toBe(401);
    expect(res.headers.get('www-authenticate'), what).toBe(
      'Bearer realm="reports", error="invalid_token", error_description="The access token is invalid"',
    );
  }
  // And the API refuses the reports token: it is not for the API.
  const atApi = await fetch(`${api.url}/trpc/user.me`, {
    headers: { authorization: `Bearer ${forReports.accessToken}` },
  });
  expect(atApi.status).toBe(401);
});

test('the service answers like the API: 401 without a token, 400 for a malformed header, 401 "expired" for an expired token', async () => {
  const none = await askReports();
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toBe('Bearer realm="reports"');

  const malformed = await fetch(`${reportsUrl}/summary`, { headers: { authorization: 'Basic YWxpY2U6cGFzcw==' } });
  expect(malformed.status).toBe(400);
  expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_request"');

  // Minted an access-token lifetime ago by the API's own clock: really expired at the service.
  const { email } = await createUser(api, { clock });
  clock.advance(-api.config.jwt.accessTokenTtl - 5);
  const old = await exchange(api, await nativeSignIn(api, email), 'reports');
  clock.advance(api.config.jwt.accessTokenTtl + 5);
  const expired = await askReports(old.accessToken);
  expect(expired.status).toBe(401);
  expect(expired.headers.get('www-authenticate')).toContain('error_description="The access token expired"');
});

test('the service is given no secret, and the key set it reads holds none', async () => {
  expect(Object.keys(reportsEnv).sort()).toEqual([
    'PORT',
    'REPORTS_ALG',
    'REPORTS_AUDIENCE',
    'REPORTS_ISSUER',
    'REPORTS_JWKS_URL',
  ]);
  const jwks = (await (await fetch(reportsEnv.REPORTS_JWKS_URL!)).json()) as { keys: Record<string, unknown>[] };
  expect(jwks.keys).toHaveLength(1);
  expect(Object.keys(jwks.keys[0]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
});

test('a key rotation: the service keeps accepting tokens of the old key until they expire, and learns the new key by itself', async () => {
  const { email } = await createUser(api, { clock });
  const beforeRotation = await exchange(api, await nativeSignIn(api, email), 'reports');
  expect((await askReports(beforeRotation.accessToken)).status).toBe(200);
  const oldKid = decodeProtectedHeader(beforeRotation.accessToken).kid;

  // What `npm run setup -- --rotate` writes, then a restart on the same port and database.
  const previous = sameKeyVars(api.config).JWT_PRIVATE_KEY!;
  const { createPrivateKey, createPublicKey } = await import('node:crypto');
  const previousPublic = createPublicKey(
    createPrivateKey({ key: Buffer.from(previous, 'base64url'), format: 'der', type: 'pkcs8' }),
  )
    .export({ format: 'der', type: 'spki' })
    .toString('base64url');
  const until = new Date(clock.now().getTime() + api.config.jwt.accessTokenTtl * 1000).toISOString();
  await api.close({ closeDatabase: false });
  // The service may refetch the set 1 s after its last fetch (its cooldown); the pause also
  // lets pooled keep-alive sockets to the stopped server notice they are closed.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  api = await startServer({
    db: api.db,
    clock,
    port: apiPort,
    vars: {
      ...freshKeyVars('EdDSA'),
      JWT_PUBLIC_KEY_PREVIOUS: previousPublic,
      JWT_PUBLIC_KEY_PREVIOUS_UNTIL: until,
      JWT_SERVICES: services,
    },
  });

  const jwks = (await (await fetch(reportsEnv.REPORTS_JWKS_URL!)).json()) as { keys: { kid: string }[] };
  expect(jwks.keys.map((k) => k.kid)).toContain(oldKid);
  expect(jwks.keys).toHaveLength(2);

  // The old key's token still works; a token of the new key makes the service fetch the set
  // again (its cache does not know that kid yet).
  expect((await askReports(beforeRotation.accessToken)).status).toBe(200);
  const afterRotation = await exchange(api, await nativeSignIn(api, email), 'reports');
  expect(decodeProtectedHeader(afterRotation.accessToken).kid).not.toBe(oldKid);
  expect((await askReports(afterRotation.accessToken)).status).toBe(200);

  // Once the window is over the old key is gone from the set, and its tokens are expired anyway.
  clock.advance(api.config.jwt.accessTokenTtl + 1);
  const later = (await (await fetch(reportsEnv.REPORTS_JWKS_URL!)).json()) as { keys: { kid: string }[] };
  expect(later.keys.map((k) => k.kid)).not.toContain(oldKid);
  // Back to real time: the service checks `iat` against its own clock.
  clock.advance(-(api.config.jwt.accessTokenTtl + 1));
});

test('reports.summary when the service is not declared is a 404 that says so; when it is down, a 502', async () => {
  const notDeclared = await startServer({ vars: freshKeyVars('EdDSA') });
  try {
    const { client } = await createUser(notDeclared);
    const res = await client.query('reports.summary');
    expect(res.status).toBe(404);
    expect(res.body.error?.message).toMatch(/No reports service is configured: add reports=<its URL> to JWT_SERVICES/);
  } finally {
    await notDeclared.close();
  }
  const down = await startServer({
    vars: { ...freshKeyVars('EdDSA'), JWT_SERVICES: `reports=http://127.0.0.1:${await freePort()}` },
  });
  try {
    const { client } = await createUser(down);
    const res = await client.query('reports.summary');
    expect(res.status).toBe(502);
    expect(res.body.error?.message).toBe('The reports service failed');
    expect((await client.query('user.me')).status).toBe(200);
  } finally {
    await down.close();
  }
});

test('cookie clients cannot get a service token in a body: the browser app goes through procedures', async () => {
  const { client } = await createUser(api, { clock });
  const res = await createClient(api.url, api.config.appOrigin).mutate('auth.exchangeToken', { service: 'reports' });
  expect(res.status).toBe(401);
  const signedIn = await client.mutate('auth.exchangeToken', { service: 'reports' });
  expect(signedIn.status).toBe(403);
  expect(signedIn.body.error?.message).toMatch(/only to native clients/);
});

test('after an emergency rotation (--drop-previous) the service refuses the dropped key once its key-set cache runs out, and never takes a token older than the TTL', async () => {
  const port = await freePort();
  const servicePort = await freePort();
  const audience = `http://127.0.0.1:${servicePort}`;
  const vars = { JWT_SERVICES: `reports=${audience}` };
  let server = await startServer({ vars: { ...freshKeyVars('EdDSA'), ...vars }, port });
  const service = spawnScript('examples/reports-service/main.ts', ROOT, {
    ...reportsEnv,
    REPORTS_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    REPORTS_AUDIENCE: audience,
    REPORTS_JWKS_MAX_AGE: '1',
    PORT: String(servicePort),
  });
  try {
    expect(await service.url).toBe(audience);
    const { email } = await createUser(server);
    const leakedKeyToken = (await exchange(server, await nativeSignIn(server, email), 'reports')).accessToken;
    const ask = (token: string) => fetch(`${audience}/summary`, { headers: { authorization: `Bearer ${token}` } });
    expect((await ask(leakedKeyToken)).status).toBe(200);

    // A token the API's own key signed, but older than ACCESS_TOKEN_TTL with a far `exp`.
    const key = await importJWK(server.config.jwt.privateKey!.export({ format: 'jwk' }) as JWK, 'EdDSA');
    const kid = decodeProtectedHeader(leakedKeyToken).kid!;
    const now = Math.floor(Date.now() / 1000);
    const ancient = await new SignJWT({ sid: 'x', role: 'user' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(server.config.jwt.issuer)
      .setAudience(audience)
      .setSubject('someone')
      .setJti('j')
      .setIssuedAt(now - 2 * server.config.jwt.accessTokenTtl)
      .setExpirationTime(now + 10 * 365 * 86_400)
      .sign(key);
    expect((await ask(ancient)).status).toBe(401);

    // `setup -- --rotate --drop-previous`, then a restart: the old key is no longer published.
    await server.close({ closeDatabase: false });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    server = await startServer({ db: server.db, vars: { ...freshKeyVars('EdDSA'), ...vars }, port });
    const refused = await ask(leakedKeyToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  } finally {
    service.child.kill('SIGTERM');
    await service.exitCode;
    await server.close();
  }
});

test('the service says 503, not 401, when the key set cannot be had; takes any case of "Bearer"; quotes nothing it should not', async () => {
  const { email } = await createUser(api, { clock });
  const token = (await exchange(api, await nativeSignIn(api, email), 'reports')).accessToken;
  const broken = createReportsService({
    jwksUrl: `http://127.0.0.1:${apiPort}/.well-known/no-such-set.json`,
    issuer: api.config.jwt.issuer,
    audience: reportsUrl,
    algorithm: 'EdDSA',
    maxTokenAgeSeconds: 900,
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(broken.address() as AddressInfo).port}/summary`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  } finally {
    broken.close();
  }
  expect((await fetch(`${reportsUrl}/summary`, { headers: { authorization: `bearer ${token}` } })).status).toBe(200);
  const malformed = await fetch(`${reportsUrl}/summary`, { headers: { authorization: 'Token abc' } });
  expect(malformed.headers.get('www-authenticate')).toBe(
    `Bearer realm="reports", error="invalid_request", error_description="The Authorization header must be 'Bearer <token>'"`,
  );
});

test('callService keeps the path of the service’s base URL, and refuses an answer over 1 MiB', async () => {
  const paths: string[] = [];
  let answer = JSON.stringify({ userId: 'u', reports: [] });
  const fake = createHttpServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/reports-api/v1`;
  const server = await startServer({ vars: { ...freshKeyVars('EdDSA'), JWT_SERVICES: `reports=${base}` } });
  try {
    const { client } = await createUser(server);
    expect((await client.query('reports.summary')).status).toBe(200);
    expect(paths).toEqual(['/reports-api/v1/summary']);
    answer = JSON.stringify({ userId: 'u', reports: [], padding: 'x'.repeat(2 * 1024 * 1024) });
    const tooBig = await client.query('reports.summary');
    expect(tooBig.status).toBe(502);
    expect(tooBig.body.error?.message).toBe('The reports service failed');
  } finally {
    await server.close();
    fake.close();
  }
});
