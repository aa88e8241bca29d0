// Where to go after signing in: back to the page that asked for it, carried in the sign-in
// page's address (`/sign-in?next=/notes`). The value comes from a URL anyone can craft, so
// only a path on this site is followed: never another origin (an open redirect would lend
// this site's address to a phishing page).

/**
 * The sign-in page's address that returns to `path` afterwards. A path that would not be
 * followed (the home page, an auth page such as Sign in itself) is left out.
 */
export function signInPathFor(path: string): string {
  return safeReturnPath(path) === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(path)}`;
}

/**
 * `next` if it is a path on this site (with its query and fragment), else `/`. Refused:
 * absolute URLs (`https://evil.example`), protocol-relative ones (`//evil.example`,
 * `/\evil.example`, which browsers read alike), other schemes (`javascript:`), control
 * characters, and the auth pages themselves (a loop, or a mailed link's page without its token).
 *
 * @example safeReturnPath('/notes?page=2') // => '/notes?page=2'
 * @example safeReturnPath('//evil.example') // => '/'
 */
export function safeReturnPath(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(next)) return '/';
  const base = 'https://this.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/';
  }
  if (url.origin !== base) return '/';
  if (/^\/(sign-in|register|forgot-password|complete-sign-up|reset-password|confirm-email)\/?$/i.test(url.pathname))
    return '/';
  // What is returned is what the parser made of it: dot segments can leave `//` in front.
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (path.startsWith('//') || path.startsWith('/\\') || new URL(path, base).origin !== base) return '/';
  return path;
}
