// The app's shell in a real browser: its name and a title on every page, one header row
// and nothing wider than the screen at 390 px (with a screenshot of every page at 1280 and
// 390 px), the current page marked in the navigation, dark mode, no 401 logged when a
// signed-out visitor loads a page, a safe way back after sign-in, and a readable message
// when the API cannot be reached.
import type { ConsoleMessage, Page } from '@playwright/test';
import { APP_NAME } from '../../server/app-name.ts';
import { PASSWORD, createAccount, expect, signIn, test } from './fixtures.ts';

declare const document: { documentElement: { scrollWidth: number }; title: string };
declare function getComputedStyle(element: unknown): { backgroundColor: string };
declare const window: { document: { documentElement: unknown } };

/** Nothing on the page is wider than the viewport: no sideways scrolling. */
async function expectFits(page: Page, width: number) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth), page.url()).toBeLessThanOrEqual(width);
}

test('every page: the app name, its own title, no sideways scrolling at 390 px, and a screenshot at 1280 and 390 px', async ({
  page,
}) => {
  test.setTimeout(90_000);
  const shoot = async (name: string) => {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await expectFits(page, width);
      if (width === 390) {
        // The header is one row: as tall as its tallest item, not two or three stacked.
        const header = await page.locator('header').first().boundingBox();
        expect(header!.height, `${name}: header height`).toBeLessThan(64);
      }
      // Kept with the test's results (test-results/…/<page>-<width>.png) for people to look at.
      await page.screenshot({ path: test.info().outputPath(`${name}-${width}.png`), fullPage: true });
    }
  };
  const signedOut: [string, string][] = [
    ['/sign-in', 'Sign in'],
    ['/register', 'Create account'],
    ['/forgot-password', 'Forgot password'],
  ];
  for (const [path, title] of signedOut) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.locator('header .brand')).toHaveText(APP_NAME);
    await expect(page).toHaveTitle(`${title} · ${APP_NAME}`);
    await shoot(path.slice(1));
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await signIn(page, createAccount('admin'));
  for (const name of ['Home', 'Notes', 'Sessions', 'Account', 'Security', 'Admin']) {
    await page.setViewportSize({ width: 390, height: 844 });
    const link = page.getByRole('navigation').getByRole('link', { name, exact: true });
    await link.click();
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page).toHaveTitle(`${name} · ${APP_NAME}`);
    // The current page, and only it, is marked in the navigation.
    await expect(link).toHaveAttribute('aria-current', 'page');
    await expect(page.getByRole('navigation').locator('[aria-current="page"]')).toHaveCount(1);
    await shoot(name.toLowerCase());
  }
  await page.goto('/password');
  await expect(page).toHaveTitle(`Change password · ${APP_NAME}`);
  await shoot('change-password');
});

test('a signed-out visitor who loads a page sees Sign in, no 401 in the console, and returns there after signing in', async ({
  page,
}) => {
  const messages: string[] = [];
  page.on('console', (message: ConsoleMessage) => messages.push(message.text()));
  const email = createAccount();
  await page.goto('/security');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fsecurity$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(messages.filter((text) => /status of 401/.test(text))).toEqual([]);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/security$/);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
});

for (const next of ['//evil.example/phish', 'https://evil.example/phish', '/\\evil.example']) {
  test(`after sign-in, next=${next} is not followed: home instead`, async ({ page, baseURL }) => {
    const email = createAccount();
    await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('me-email')).toHaveText(email);
    expect(page.url()).toBe(`${baseURL}/`);
  });
}

test('dark mode follows the system setting', async ({ page }) => {
  const background = () => page.evaluate(() => getComputedStyle(window.document.documentElement).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/sign-in');
  expect(await background()).toBe('rgb(246, 248, 250)');
  await page.emulateMedia({ colorScheme: 'dark' });
  expect(await background()).toBe('rgb(13, 17, 23)');
});

test('the API out of reach: a sentence saying so, not a parser error', async ({ browser }) => {
  // A context of its own: the failed requests it provokes are the point, not console errors.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/sign-in');
  // What a proxy answers while the API is down: an HTML page, not tRPC's JSON.
  await page.route('**/trpc/**', (route) =>
    route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' }),
  );
  await page.getByLabel('Email').fill('someone@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Cannot reach the server right now' })).toBeVisible();
  await expect(page.getByText(/JSON|Unexpected/)).toHaveCount(0);
  // A page load meanwhile: a way to try again rather than a blank page or a bounce to Sign in.
  await page.goto('/notes');
  await expect(page.getByRole('heading', { name: 'Cannot reach the server' })).toBeVisible();
  await page.unroute('**/trpc/**');
  await page.getByRole('button', { name: 'Try again' }).click();
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fnotes$/);
  await context.close();
});
