// Cookie transport and request-origin checks, over real HTTP.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../../../server/auth/cookies.ts';
import { startServer } from '../../helpers/server.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

test('sign-in sets both tokens only as HttpOnly, Secure, SameSite=Strict cookies, never in the body', async () => {
  const { email } = await createUser(server);
  const res = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { origin: server.config.appOrigin, 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  const [access, refresh] = res.headers.getSetCookie();
  const accessValue = /^__Host-access_token=([^;]+)/.exec(access!)?.[1];
  // The cookie outlives the JWT inside it (as long as the session may refresh), so an
  // expired token still reaches the server and is answered `expired_token`.
  expect(access).toMatch(
    new RegExp(`^${ACCESS_COOKIE}=${accessValue}; Max-Age=\\d+; Path=/; HttpOnly; Secure; SameSite=Strict$`),
  );
  const maxAge = Number(/Max-Age=(\d+)/.exec(access!)?.[1]);
  expect(maxAge).toBeGreaterThanOrEqual(server.config.jwt.refreshTokenTtl - 1);
  expect(maxAge).toBeLessThanOrEqual(server.config.jwt.refreshTokenTtl);
  const refreshValue = /^__Secure-refresh_token=([^;]+)/.exec(refresh!)?.[1];
  expect(refresh).toMatch(
    new RegExp(
      `^${REFRESH_COOKIE}=${refreshValue}; Max-Age=\\d+; Path=${REFRESH_COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict$`,
    ),
  );
  expect(refresh).not.toMatch(/Domain=/i);
  const body = await res.text();
  expect(body).not.toContain(accessValue!);
  expect(body).not.toContain(refreshValue!);
});

test('logout clears both cookies with Max-Age=0 on their own paths', async () => {
  const { client } = await createUser(server);
  const res = await client.mutate('auth.logout');
  expect(res.status).toBe(200);
  expect(res.setCookies.map((c) => [c.name, c.maxAge, c.path])).toEqual([
    [ACCESS_COOKIE, 0, '/'],
    [REFRESH_COOKIE, 0, REFRESH_COOKIE_PATH],
  ]);
});

const post = (path: string, headers: Record<string, string>, body: string | FormData = '{}') =>
  fetch(`${server.url}/trpc/${path}`, { method: 'POST', headers, body });

test.each([
  ['another origin', { origin: 'https://evil.example', 'content-type': 'application/json' }],
  ['no Origin header', { 'content-type': 'application/json' }],
  ['the null origin (sandboxed frame)', { origin: 'null', 'content-type': 'application/json' }],
  [
    'Sec-Fetch-Site: cross-site (with our Origin)',
    { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
  ],
  [
    'Sec-Fetch-Site: same-site (with our Origin)',
    { 'sec-fetch-site': 'same-site', 'content-type': 'application/json' },
  ],
])('a state-changing request from %s is refused with 403 before any procedure runs', async (_, headers) => {
  const { client } = await createUser(server);
  // Sec-Fetch-Site rows carry our own Origin, so only that header can refuse them.
  const origin: Record<string, string> = 'sec-fetch-site' in headers ? { origin: server.config.appOrigin } : {};
  const res = await post('auth.logout', {
    ...origin,
    ...(headers as Record<string, string>),
    cookie: `${ACCESS_COOKIE}=${client.cookie(ACCESS_COOKIE)}`,
  });
  expect(res.status).toBe(403);
  expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe('FORBIDDEN');
  // The session was not ended: the request never reached auth.logout.
  expect((await client.query('user.me')).status).toBe(200);
});

test('a cross-site multipart form posting to auth.logout is refused', async () => {
  const { client } = await createUser(server);
  const form = new FormData();
  form.set('x', '1');
  const res = await post(
    'auth.logout',
    { origin: 'https://evil.example', cookie: `${ACCESS_COOKIE}=${client.cookie(ACCESS_COOKIE)}` },
    form,
  );
  expect(res.status).toBe(403);
  expect((await client.query('user.me')).status).toBe(200);
});

test.each([
  ['multipart/form-data', 'multipart/form-data; boundary=x'],
  ['text/plain', 'text/plain'],
  ['urlencoded', 'application/x-www-form-urlencoded'],
  ['octet-stream', 'application/octet-stream'],
  ['no content type', ''],
])('a same-origin POST with %s is refused with 415', async (_, type) => {
  const headers: Record<string, string> = { origin: server.config.appOrigin };
  if (type) headers['content-type'] = type;
  const res = await post('auth.login', headers, 'email=a@example.com&password=x');
  expect(res.status).toBe(415);
});

test('same-origin JSON with Sec-Fetch-Site: same-origin passes', async () => {
  const { email } = await createUser(server);
  const res = await post(
    'auth.login',
    {
      origin: server.config.appOrigin,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json; charset=utf-8',
    },
    JSON.stringify({ email, password: PASSWORD }),
  );
  expect(res.status).toBe(200);
});

test('streaming batch responses are refused: they would send headers before cookies or a 401', async () => {
  const { email } = await createUser(server);
  const streaming: Record<string, string>[] = [{ 'trpc-accept': 'application/jsonl' }, { accept: 'application/jsonl' }];
  for (const header of streaming) {
    const res = await post(
      'auth.login?batch=1',
      { origin: server.config.appOrigin, 'content-type': 'application/json', ...header },
      JSON.stringify({ 0: { email, password: PASSWORD } }),
    );
    expect(res.status).toBe(400);
  }
});

test('a mutation called with GET is refused (405) and changes nothing', async () => {
  const { client } = await createUser(server);
  const res = await client.query('auth.logout');
  expect(res.status).toBe(405);
  expect((await client.query('user.me')).status).toBe(200);
});
