// Where the tokens travel: HttpOnly cookies only, never a response body or URL.
// Edit the names or paths here; the SPA never reads these cookies (it cannot).
import { parseCookie, type SerializeOptions, stringifySetCookie } from 'cookie';

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

/** The step between password and second factor (second-factor/sign-in-challenge.ts): no session, no token. */
export const SECOND_FACTOR_COOKIE = '__Host-second_factor';

export const secondFactorCookie = (token: string, maxAgeSeconds: number) =>
  stringifySetCookie(SECOND_FACTOR_COOKIE, token, { ...base, path: '/', maxAge: maxAgeSeconds });

export const refreshCookie = (token: string, maxAgeSeconds: number) =>
  stringifySetCookie(REFRESH_COOKIE, token, { ...base, path: REFRESH_COOKIE_PATH, maxAge: maxAgeSeconds });

/**
 * Both cookies, expired: after sign-out or a failed refresh. `__Secure-` allows `Domain=`,
 * so a sibling subdomain can plant a refresh cookie for a parent domain; expiring it needs
 * that same Domain, hence one more cookie per domain `appHost` belongs to (browsers ignore
 * the ones they would not have accepted, such as a public suffix).
 *
 * @example clearedCookies('app.example.com') // access, refresh, refresh with Domain=app.example.com and =example.com
 */
export function clearedCookies(appHost: string): string[] {
  const labels = appHost.split('.');
  const isDomainName = labels.length > 1 && !/^[\d.]+$/.test(appHost) && !appHost.includes(':');
  // The host itself too: `Domain=app.example.com` is a different cookie from a host-only one.
  const parents = isDomainName ? labels.slice(0, -1).map((_, i) => labels.slice(i).join('.')) : [];
  return [
    accessCookie('', 0),
    refreshCookie('', 0),
    ...parents.map((domain) =>
      stringifySetCookie(REFRESH_COOKIE, '', { ...base, path: REFRESH_COOKIE_PATH, maxAge: 0, domain }),
    ),
  ];
}

/**
 * The request's cookies, with `hasConflictingAuthCookies` when an auth cookie appears more
 * than once: browsers send every cookie that matches (ours and one a sibling subdomain
 * planted), and taking either could sign the victim into the planter's account.
 */
export function readCookies(header: string) {
  const cookies: Record<string, string | undefined> = parseCookie(header);
  // Every signed-in request passes here: a substring test, not a second parse. A name can
  // only be "repeated" as a substring if it really repeats (`__Host-`/`__Secure-` prefixes).
  const isRepeated = (name: string) => header.indexOf(`${name}=`) !== header.lastIndexOf(`${name}=`);
  const hasConflictingAuthCookies = isRepeated(ACCESS_COOKIE) || isRepeated(REFRESH_COOKIE);
  if (hasConflictingAuthCookies) {
    delete cookies[ACCESS_COOKIE];
    delete cookies[REFRESH_COOKIE];
  }
  return { cookies, hasConflictingAuthCookies };
}
