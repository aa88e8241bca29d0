// Passkeys in a real browser: Chromium's virtual authenticator (DevTools protocol,
// WebAuthn domain) stands in for a phone's screen lock, with user verification. Register
// one from the Security page, sign in with it alone, use it as the second step after a
// password and to confirm a sensitive action, then remove it. At 390 px wide.
import type { CDPSession, Page } from '@playwright/test';
import {
  PASSWORD,
  choosePassword,
  createAccount,
  expect,
  linkIn,
  signIn,
  test,
  waitForMail,
  waitPastReauthWindow,
} from './fixtures.ts';

const NEW_PASSWORD = 'a new e2e passphrase';

declare const document: { documentElement: { scrollWidth: number } };

/** A platform authenticator that verifies its user (a fingerprint, say) without asking. */
async function addVirtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

const credentialsOf = async ({ cdp, authenticatorId }: { cdp: CDPSession; authenticatorId: string }) =>
  (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

const noOverflow = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

test('add a passkey; sign in with it alone, as the second step and for a reset; confirm with it; remove it', async ({
  page,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const authenticator = await addVirtualAuthenticator(page);
  const email = createAccount();
  await signIn(page, email);

  // Register: the first factor of the account comes with its recovery codes.
  await page.getByRole('navigation').getByRole('link', { name: 'Security' }).click();
  await page.getByLabel('Name of the new passkey').fill('Test laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(page.getByTestId('recovery-codes').locator('code')).toHaveCount(10);
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await expect(page.getByTestId('passkeys')).toContainText('Test laptop');
  await expect(page.getByTestId('passkeys')).toContainText('not used yet');
  await noOverflow(page);
  await waitForMail(email, /A passkey was added/);
  const [credential] = await credentialsOf(authenticator);
  // Discoverable, for this site only, and tied to the account by its random id (not the e-mail).
  expect(credential).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
  expect(Buffer.from(credential!.userHandle!, 'base64').toString()).not.toContain('@');

  // Without the password: the passkey names its account.
  await signOut(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);
  expect((await credentialsOf(authenticator))[0]!.signCount).toBeGreaterThan(credential!.signCount);

  // With the password, the passkey is the second step.
  await signOut(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
  await expect(page.getByText(/confirm with your passkey/)).toBeVisible();
  await noOverflow(page);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);

  // A password reset of the account asks for it too, after the new password is valid.
  await signOut(page);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.goto(linkIn(await waitForMail(email, /Reset your password/)));
  await choosePassword(page, 'New password', NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect(page.getByText('This account uses two-step verification')).toBeVisible();
  // A passkey-only account is offered the passkey and a recovery code, not an app's code.
  await expect(page.getByLabel('Code from your authenticator app')).toHaveCount(0);
  await expect(page.getByLabel('Recovery code')).toBeVisible();
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);

  // Removing it needs a recent proof, given with the passkey itself.
  await page.getByRole('navigation').getByRole('link', { name: 'Security' }).click();
  await expect(page.getByTestId('passkeys')).toContainText('last used');
  await page.getByRole('button', { name: 'Rename Test laptop' }).click();
  await page.getByLabel('New name for Test laptop').fill('Old laptop');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('passkeys')).toContainText('Old laptop');
  await waitPastReauthWindow(page);
  await page.getByRole('button', { name: 'Remove Old laptop' }).click();
  await page
    .getByRole('group', { name: 'Confirm removing Old laptop' })
    .getByRole('button', { name: 'Remove' })
    .click();
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.getByRole('button', { name: 'Use my passkey instead' }).click();
  await dialog.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page.getByTestId('passkeys')).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Recovery codes' })).toHaveCount(0);
  await waitForMail(email, /A passkey was removed/);

  // Gone from the account (the authenticator still holds its key): it signs in no more.
  await signOut(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /not registered/ })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);
});

test('a device with no passkey for the site gets a sentence, and the password still signs in', async ({ page }) => {
  await addVirtualAuthenticator(page);
  const email = createAccount();
  await page.goto('/sign-in');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /No passkey was used/ })).toBeVisible();
  await signIn(page, email);
});
