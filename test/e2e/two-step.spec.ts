// Two-step verification in a real browser: turn the authenticator app on from the Security
// page (the test is the app: it computes codes from the key the page shows), sign in with
// a code and with a recovery code, then turn it off. Also at 390 px wide.
import type { Page } from '@playwright/test';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { stepAt, totpCode } from '../../server/auth/second-factor/totp.ts';
import { PASSWORD, createAccount, expect, test, waitForMail, waitPastReauthWindow } from './fixtures.ts';

declare const document: { documentElement: { scrollWidth: number } };

/** The code the app would show `steps` steps from now. */
const codeOf = (key: string, steps = 0) =>
  totpCode(decodeBase32IgnorePadding(key.replace(/\s/g, '')), stepAt(new Date()) + steps);

async function firstStep(page: Page, email: string) {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

test('turn on the authenticator app, sign in with a code and with a recovery code, turn it off', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const email = createAccount();
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);

  // Enrol: the QR code is an image drawn by the server; the key to type is next to it.
  await page.getByRole('navigation').getByRole('link', { name: 'Security' }).click();
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
  const key = (await page.locator('code').first().textContent())!;
  expect(key.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.getByLabel('Then enter the code the app shows').fill(codeOf(key));
  await page.getByRole('button', { name: 'Turn on' }).click();

  // The recovery codes, once.
  await expect(page.getByTestId('recovery-codes').locator('code')).toHaveCount(10);
  const codes = (await page.getByTestId('recovery-codes').locator('code').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'On.' })).toBeVisible();
  await expect(page.getByTestId('recovery-codes-left')).toHaveText('10');
  await waitForMail(email, /Two-step verification is on/);

  // A sign-in now asks for a code after the password. The enrolment used this step's code:
  // the app's next one (inside the window) is what a user typing a moment later has.
  await signOut(page);
  await firstStep(page, email);
  await page.getByLabel('Code from your authenticator app').fill('123 456');
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /not correct/ })).toBeVisible();
  await page.getByLabel('Code from your authenticator app').fill(codeOf(key, 1));
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);

  // Lost the phone: a recovery code instead, mailed to the owner; it then counts one less.
  await signOut(page);
  await firstStep(page, email);
  await page.getByRole('button', { name: 'Lost your phone? Use a recovery code' }).click();
  await page.getByLabel('Recovery code').fill(codes[0]!.toUpperCase());
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);
  await waitForMail(email, /A recovery code was used/);
  await page.getByRole('navigation').getByRole('link', { name: 'Security' }).click();
  await expect(page.getByTestId('recovery-codes-left')).toHaveText('9');

  // Turning it off needs a recent proof: the dialog offers the app as well as the password.
  await waitPastReauthWindow(page);
  await page.getByRole('button', { name: 'Turn off two-step verification' }).click();
  await page.getByRole('button', { name: 'Turn off', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await expect(dialog.getByRole('button', { name: 'Use my authenticator app instead' })).toBeVisible();
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('button', { name: 'Turn on two-step verification' })).toBeVisible();
  await waitForMail(email, /Two-step verification is off/);
  await signOut(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);
});
