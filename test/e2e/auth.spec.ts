// The SPA's sessions in a real browser: cookies only, silent refresh, several tabs,
// sign-out everywhere, roles and revocation.
import type { Page } from '@playwright/test';
import { createAccount, expect, signIn, test, waitPastAccessLifetime } from './fixtures.ts';

// Browser globals used inside page.evaluate() callbacks (the test program has no DOM lib).
declare const document: { cookie: string };
declare const localStorage: Record<string, string>;
declare const sessionStorage: Record<string, string>;

const refreshCalls = (page: Page) => {
  const calls: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/trpc/auth.refresh') calls.push(request.url());
  });
  return calls;
};

test('scripts see no token: both cookies are HttpOnly, Secure and SameSite=Strict', async ({ page, context }) => {
  await signIn(page, createAccount());
  expect(await page.evaluate(() => document.cookie)).toBe('');
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toMatch(/eyJ/);
  const cookies = await context.cookies();
  expect(cookies.map((c) => c.name).sort()).toEqual(['__Host-access_token', '__Secure-refresh_token']);
  for (const cookie of cookies) {
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
  }
});

test('after the access token expires, an action succeeds with exactly one refresh', async ({ page }) => {
  await signIn(page, createAccount());
  const refreshes = refreshCalls(page);
  await waitPastAccessLifetime(page);
  await page.getByRole('link', { name: 'Sessions' }).click();
  await expect(page.getByText('This device')).toBeVisible();
  expect(refreshes).toHaveLength(1);
  await expect(page).toHaveURL(/\/sessions$/);
});

test('two tabs acting at the same moment after expiry both succeed and the session survives', async ({
  page,
  context,
}) => {
  await signIn(page, createAccount());
  const second = await context.newPage();
  await second.goto('/');
  await expect(second.getByTestId('me-email')).toBeVisible();
  const refreshes = [...[page, second].map(refreshCalls)];
  await waitPastAccessLifetime(page);

  await Promise.all([page, second].map((tab) => tab.getByRole('link', { name: 'Sessions' }).click()));
  for (const tab of [page, second]) await expect(tab.getByText('This device')).toBeVisible();
  // Web Locks: the second tab waits for the first tab's refresh and reuses it.
  expect(refreshes.flat()).toHaveLength(1);

  // Still one live session: a later action in either tab needs no new sign-in.
  await second.reload();
  await expect(second.getByText('This device')).toBeVisible();
  await expect(page.getByRole('listitem')).toHaveCount(1);
});

test('signing out in one tab signs out the other', async ({ page, context }) => {
  await signIn(page, createAccount());
  const other = await context.newPage();
  await other.goto('/sessions');
  await expect(other.getByText('This device')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(other).toHaveURL(/\/sign-in$/);
  await expect(other.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('a user who is not an admin cannot see or call the admin page; once promoted, they can', async ({
  page,
  browser,
  watch,
}) => {
  const userEmail = createAccount();
  await signIn(page, userEmail);
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await page.goto('/admin');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  const status = await page.evaluate(async () => (await fetch('/trpc/admin.listUsers')).status);
  expect(status).toBe(403);

  const adminContext = await browser.newContext();
  const admin = watch(await adminContext.newPage());
  await signIn(admin, createAccount('admin'));
  await admin.getByRole('link', { name: 'Admin' }).click();
  await admin.getByLabel(`Role of ${userEmail}`).selectOption('admin');
  await admin.getByRole('button', { name: 'Change role' }).click();
  await expect(admin.getByText(`${userEmail} is now admin.`)).toBeVisible();
  await expect(admin.getByLabel(`Role of ${userEmail}`)).toHaveValue('admin');
  await adminContext.close();

  // Their very next request carries the old role: refreshed transparently, then admin.
  await page.goto('/');
  await expect(page.getByTestId('me-role')).toHaveText('admin');
  await page.getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('heading', { name: 'Admin' })).toBeVisible();
});

test('a session revoked from Sessions is signed out on its next action', async ({ page, browser, watch }) => {
  const email = createAccount();
  const laptopContext = await browser.newContext();
  const laptop = watch(await laptopContext.newPage());
  await signIn(laptop, email);
  // Signed in last, so its password proof is fresh: ending another session needs one
  // (REAUTH_WINDOW is 5 s here; the dialog itself is tested in account.spec.ts).
  await signIn(page, email);

  await page.getByRole('link', { name: 'Sessions' }).click();
  const other = page.getByRole('listitem').filter({ hasNot: page.getByText('This device') });
  await other.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('listitem')).toHaveCount(1);

  await laptop.getByRole('link', { name: 'Sessions' }).click();
  await expect(laptop).toHaveURL(/\/sign-in\?next=%2Fsessions$/);
  await expect(laptop.getByText('Your session ended, please sign in again.')).toBeVisible();
  await laptopContext.close();
});

test('wrong password shows a readable error next to the form', async ({ page }) => {
  const email = createAccount();
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid e-mail or password');
});

test('the production server sends a strict CSP and security headers', async ({ page }) => {
  const response = await page.goto('/');
  const headers = response!.headers();
  expect(headers['content-security-policy']).toContain("script-src 'self'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['cross-origin-resource-policy']).toBe('same-origin');
  expect(headers['permissions-policy']).toContain('camera=()');
  expect(headers['permissions-policy']).toContain('publickey-credentials-get=(self)');
  // The page is revalidated on every load; its hashed assets are cached for good.
  expect(headers['cache-control']).toBe('no-cache');
  const script = await page.locator('script[type="module"]').getAttribute('src');
  const asset = await page.request.get(script!);
  expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  // API answers stay out of every cache.
  const api = await page.request.get('/trpc/health');
  expect(api.headers()['cache-control']).toBe('no-store');
});
