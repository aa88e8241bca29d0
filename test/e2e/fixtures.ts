// Shared browser-test fixtures: accounts made with `npm run user:create` (as an
// operator would), sign-in through the UI, and a console that must stay clean.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type Page, test as base, expect } from '@playwright/test';
import { serverEnv } from '../../playwright.config.ts';

export const PASSWORD = 'a long e2e password';

/** Creates an account directly in the e2e database; returns its e-mail. */
export function createAccount(role: 'user' | 'admin' = 'user'): string {
  const email = `${role}-${randomBytes(4).toString('hex')}@example.com`;
  const result = spawnSync('node_modules/.bin/tsx', ['scripts/create-user.ts', '--email', email, '--role', role], {
    input: `${PASSWORD}\n`,
    env: { PATH: process.env.PATH, ...serverEnv },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`user:create failed: ${result.stderr}`);
  return email;
}

export async function signIn(page: Page, email: string) {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);
}

/** Waits until the access token (ACCESS_TOKEN_TTL=3 s) has certainly expired. */
export const waitPastAccessLifetime = (page: Page) => page.waitForTimeout(4_000);

/** A 401 or 403 the app handles by design still shows in Chromium's console as a failed load. */
const EXPECTED_NETWORK_ERROR = /^Failed to load resource: the server responded with a status of (401|403) /;

/**
 * Every test fails on a console error or uncaught exception in any page it opens:
 * pages of the default context are watched; call `watch(page)` for other contexts.
 */
export const test = base.extend<{ watch: (page: Page) => Page }>({
  watch: [
    async ({ context }, use) => {
      const errors: string[] = [];
      const watch = (page: Page) => {
        page.on('console', (message) => {
          if (message.type() === 'error' && !EXPECTED_NETWORK_ERROR.test(message.text())) errors.push(message.text());
        });
        page.on('pageerror', (error) => errors.push(error.message));
        return page;
      };
      context.on('page', watch);
      await use(watch);
      expect(errors, 'console errors (CSP violations included)').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
