// "When did a tab last refresh the session", as the tabs share it through localStorage.
// Free of browser APIs, so it is tested under Node (test/web/auth/refreshed-at.test.ts).

/** The localStorage key every tab reads and writes. */
export const REFRESHED_AT = 'auth:refreshed-at';

/**
 * Whether a tab refreshed after `since` (ms), going by the stored time. A stored time later
 * than `now` (the clock was set back, or something wrote the key by hand) counts as no
 * refresh: trusted, it would make every tab skip refreshing until that time.
 *
 * @example
 * isRefreshedSince(localStorage.getItem(REFRESHED_AT), startedAt, Date.now())
 */
export function isRefreshedSince(stored: string | null, since: number, now: number): boolean {
  const refreshedAt = Number(stored);
  return refreshedAt > since && refreshedAt <= now;
}
