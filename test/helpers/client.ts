// A minimal browser stand-in for tests: a cookie jar that honours Path and Max-Age,
// the app's Origin on every request, and tRPC's plain-JSON wire format.
import { parseSetCookie, type SetCookie } from 'cookie';

export interface CallResult<T = unknown> {
  status: number;
  headers: Headers;
  body: { result?: { data: T }; error?: { message: string; data: Record<string, unknown> & { authError: string | null; code: string } } };
  setCookies: SetCookie[];
}

export function createClient(baseUrl: string, origin: string) {
  const jar = new Map<string, SetCookie>();

  function cookieHeader(pathname: string) {
    return [...jar.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(`${c.path?.replace(/\/$/, '')}/`) || c.path === '/')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  async function send<T>(method: 'GET' | 'POST', path: string, input?: unknown): Promise<CallResult<T>> {
    const url = new URL(`/trpc/${path}`, baseUrl);
    if (method === 'GET' && input !== undefined) url.searchParams.set('input', JSON.stringify(input));
    const headers: Record<string, string> = { origin, 'user-agent': 'test-client' };
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
      else jar.set(c.name, c);
    }
    return { status: res.status, headers: res.headers, body: (await res.json()) as CallResult<T>['body'], setCookies };
  }

  return {
    query: <T = unknown>(path: string, input?: unknown) => send<T>('GET', path, input),
    mutate: <T = unknown>(path: string, input?: unknown) => send<T>('POST', path, input),
    cookie: (name: string) => jar.get(name)?.value,
    setCookie: (name: string, value: string, path = '/') => jar.set(name, { name, value, path }),
    deleteCookie: (name: string) => jar.delete(name),
  };
}
export type TestClient = ReturnType<typeof createClient>;
