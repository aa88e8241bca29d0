// A native client (mobile app, CLI) for tests: no Origin, no cookies, `X-Auth-Transport:
// bearer` on every request, the access token as `Authorization: Bearer`, and the tokens
// kept from response bodies as a keystore would (server/auth/transport.ts, decision 011).
import { parseSetCookie } from 'cookie';
import type { NativeTokens } from '../../server/auth/sign-in.ts';
import { type CallResult, randomIp } from './client.ts';
import { PASSWORD } from './users.ts';

/** Per-call header overrides; `undefined` leaves a default header out. */
export type HeaderOverrides = Record<string, string | undefined>;

/** `ip` is sent as X-Forwarded-For (test servers trust one proxy), as the cookie client does. */
export function createNativeClient(baseUrl: string, ip = randomIp()) {
  let access: string | undefined;
  let refresh: string | undefined;

  async function send<T>(
    method: 'GET' | 'POST',
    path: string,
    input?: unknown,
    overrides: HeaderOverrides = {},
  ): Promise<CallResult<T>> {
    const url = new URL(`/trpc/${path}`, baseUrl);
    if (method === 'GET' && input !== undefined) url.searchParams.set('input', JSON.stringify(input));
    const headers = Object.fromEntries(
      Object.entries({
        'x-auth-transport': 'bearer',
        'user-agent': 'test-native-client',
        'x-forwarded-for': ip,
        authorization: access && `Bearer ${access}`,
        'content-type': method === 'POST' ? 'application/json' : undefined,
        ...overrides,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const res = await fetch(url, {
      method,
      headers,
      body: method === 'POST' ? JSON.stringify(input ?? {}) : undefined,
    });
    const body = (await res.json()) as CallResult<T>['body'];
    const tokens = (body.result?.data as { tokens?: NativeTokens } | undefined)?.tokens;
    if (tokens) {
      access = tokens.accessToken;
      if (tokens.refreshToken) refresh = tokens.refreshToken;
    }
    const setCookies = res.headers.getSetCookie().map((header) => parseSetCookie(header));
    return { status: res.status, headers: res.headers, body, setCookies };
  }

  const mutate = <T = unknown>(path: string, input?: unknown, overrides?: HeaderOverrides) =>
    send<T>('POST', path, input, overrides);

  return {
    query: <T = unknown>(path: string, input?: unknown, overrides?: HeaderOverrides) =>
      send<T>('GET', path, input, overrides),
    mutate,
    login: (email: string, password = PASSWORD) =>
      mutate<{ user: { id: string; email: string }; tokens?: NativeTokens }>('auth.login', { email, password }),
    /** Sends the kept refresh token (or `refreshToken`) in the body, as a native client must. */
    refresh: (refreshToken = refresh) =>
      mutate<{ user: { id: string }; tokens?: NativeTokens }>('auth.refresh', { refreshToken }),
    get accessToken() {
      return access;
    },
    get refreshToken() {
      return refresh;
    },
    /** Holds exactly these tokens, as a second device (or a thief) would. */
    setTokens(tokens: { access?: string; refresh?: string }) {
      ({ access, refresh } = tokens);
    },
  };
}
export type NativeClient = ReturnType<typeof createNativeClient>;
