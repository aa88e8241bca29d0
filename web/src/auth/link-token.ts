// The token of an e-mailed link (`/reset-password#token=…`). It rides in the fragment so no
// server log or Referer sees it; this takes it out of the address bar (and so out of
// history, bookmarks and screenshots) before the app makes any request. main.tsx calls
// takeLinkToken() once at startup; the page that handles the link reads it again.

let taken: { path: string; token: string } | null = null;

/**
 * The token of the link that opened this page, or null. The first call removes it from
 * the address bar; later calls on the same path return the same token.
 *
 * @example
 * const token = takeLinkToken(); // on /complete-sign-up#token=abc: 'abc', and the URL is now /complete-sign-up
 */
export function takeLinkToken(): string | null {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (token) {
    taken = { path: location.pathname, token };
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  // Only on the page the link opened: another page never posts a token meant for this one.
  return taken?.path === location.pathname ? taken.token : null;
}
