// A minimal browser stand-in for tests: a cookie jar that honours Path and Max-Age
// (against the test's clock),
// the app's Origin on every request, and tRPC's plain-JSON wire format.
import { randomBytes } from 'node:crypto';
import { parseSetCookie, type SetCookie } from 'cookie';

export interface CallResult<T = unknown> {
  status: number;
  headers: Headers;
  body: {
    result?: { data: T };
    error?: { message: string; data: Record<string, unknown> & { authError: string | null; code: string } };
  };
  setCookies: SetCookie[];
}

/** A random address in the IPv6 documentation prefix: every client is its own device. */
export const randomIp = () => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`;

/**
 * `clock` (the server's, in tests that move time) decides when a cookie's Max-Age runs
 * out; `ip` is sent as X-Forwarded-For (test servers trust one proxy).
 */
export function createClient(
  baseUrl: string,
  origin: string,
  clock: { now: () => Date } = { now: () => new Date() },
  ip = randomIp(),
) {
  const jar = new Map<string, SetCookie & { expiresAtMs?: number }>();

  function cookieHeader(pathname: string) {
    const now = clock.now().getTime();
    for (const [name, c] of jar) if (c.expiresAtMs !== undefined && c.expiresAtMs <= now) jar.delete(name);
    return [...jar.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(`${c.path?.replace(/\/$/, '')}/`) || c.path === '/')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  async function send<T>(method: 'GET' | 'POST', path: string, input?: unknown): Promise<CallResult<T>> {
    const url = new URL(`/trpc/${path}`, baseUrl);
    if (method === 'GET' && input !== undefined) url.searchParams.set('input', JSON.stringify(input));
    const headers: Record<string, string> = { origin, 'user-agent': 'test-client', 'x-forwarded-for': ip };
    const cookie = cookieHeader(url.pathname);
    if (cookie) headers.cookie = cookie;
    if (method === 'POST') headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      body: method === 'POST' ? JSON.stringify(input ?? {}) : undefined,
    });
    const setCookies = res.headers.getSetCookie().map((header) => parseSetCookie(header));
    for (const c of setCookies) {
      if (c.maxAge === 0) jar.delete(c.name);
      else
        jar.set(c.name, {
          ...c,
          expiresAtMs: c.maxAge === undefined ? undefined : clock.now().getTime() + c.maxAge * 1000,
        });
    }
    return { status: res.status, headers: res.headers, body: (await res.json()) as CallResult<T>['body'], setCookies };
  }

  return {
    query: <T = unknown>(path: string, input?: unknown) => send<T>('GET', path, input),
    mutate: <T = unknown>(path: string, input?: unknown) => send<T>('POST', path, input),
    cookie: (name: string) => jar.get(name)?.value,
    setCookie: (name: string, value: string, path = '/') => jar.set(name, { name, value, path }),
    deleteCookie: (name: string) => jar.delete(name),
    /** The time on the clock this client was given (the server's, when the test moves it). */
    now: () => clock.now(),
  };
}
export type TestClient = ReturnType<typeof createClient>;
