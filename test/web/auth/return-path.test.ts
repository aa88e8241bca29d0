// After sign-in the SPA returns to the page that sent the user there, but only to a page of
// this site: the `next` value is in a URL anyone can send, so every way out is refused.
import { expect, test } from 'vitest';
import { safeReturnPath, signInPathFor } from '../../../web/src/auth/return-path.ts';

test.each(['/notes', '/notes?page=2', '/admin#audit', '/security', '/a/b/../c'])('follows %s', (path) => {
  expect(safeReturnPath(path)).toBe(new URL(path, 'https://x.invalid').href.slice('https://x.invalid'.length));
});

test.each([
  ['an absolute URL', 'https://evil.example/phish'],
  ['a protocol-relative URL', '//evil.example/phish'],
  ['a backslash one, which browsers read alike', '/\\evil.example'],
  ['a mixed slash one', '/\\/evil.example'],
  ['a javascript: URL', 'javascript:alert(1)'],
  ['a relative path', 'notes'],
  ['a tab that makes //', '/\t/evil.example'],
  ['a newline', '/notes\n//evil.example'],
  ['dot segments that normalise to //', '/.//evil.example'],
  ['encoded dot segments', '/%2e//evil.example'],
  ['parent segments', '/a/..//evil.example'],
  ['a dot and a backslash', '/./\\evil.example'],
  ['the sign-in page itself', '/sign-in'],
  ['the sign-in page in capitals', '/SIGN-IN'],
  ["a mailed link's page, whose token is gone", '/confirm-email'],
  ['nothing', ''],
  ['no value', null],
])('refuses %s', (_, next) => {
  expect(safeReturnPath(next)).toBe('/');
});

test('the sign-in address carries the page, encoded, and round-trips', () => {
  const path = '/notes?q=a b&x=1#top';
  const href = signInPathFor(path);
  expect(href).toBe(`/sign-in?next=${encodeURIComponent(path)}`);
  expect(safeReturnPath(new URL(href, 'https://x.invalid').searchParams.get('next'))).toBe('/notes?q=a%20b&x=1#top');
  expect(signInPathFor('/')).toBe('/sign-in');
  // A session that ends on an auth page does not nest Sign in in itself.
  expect(signInPathFor('/sign-in?next=%2Fnotes')).toBe('/sign-in');
  expect(signInPathFor('/reset-password#token')).toBe('/sign-in');
});
