// Where the tokens travel: HttpOnly cookies only, never a response body or URL.
// Edit the names or paths here; the SPA never reads these cookies (it cannot).
import { type SerializeOptions, stringifySetCookie } from 'cookie';

/** `__Host-`: the browser only accepts it Secure, with Path=/ and no Domain (no subdomain can set it). */
export const ACCESS_COOKIE = '__Host-access_token';
/** `__Secure-` (not `__Host-`, which requires Path=/): sent only to the refresh endpoint. */
export const REFRESH_COOKIE = '__Secure-refresh_token';
/** Exact tRPC URL of `auth.refresh`; the client sends that call unbatched so the path matches. */
export const REFRESH_COOKIE_PATH = '/trpc/auth.refresh';

// Secure works on http://localhost too: browsers treat localhost as a secure context.
// SameSite=Strict: the SPA calls the API from its own origin, so nothing legitimate is cross-site.
const base: SerializeOptions = { httpOnly: true, secure: true, sameSite: 'strict' };

/** @example res.appendHeader('Set-Cookie', accessCookie(jwt, secondsUntilSessionExpiry)) */
export const accessCookie = (token: string, maxAgeSeconds: number) =>
  stringifySetCookie(ACCESS_COOKIE, token, { ...base, path: '/', maxAge: maxAgeSeconds });

export const refreshCookie = (token: string, maxAgeSeconds: number) =>
  stringifySetCookie(REFRESH_COOKIE, token, { ...base, path: REFRESH_COOKIE_PATH, maxAge: maxAgeSeconds });

/** Both cookies, expired: after sign-out or a failed refresh. */
export const clearedCookies = () => [accessCookie('', 0), refreshCookie('', 0)];
