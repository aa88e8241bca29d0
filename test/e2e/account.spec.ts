// An account's life over e-mail in a real browser, its mail caught by a real SMTP server:
// sign-up through the link, password reset, e-mail change, deletion, and the password
// dialog that recent-auth actions open when the proof is stale. Also: phones, 390 px wide.
import type { Page } from '@playwright/test';
import {
  PASSWORD,
  choosePassword,
  createAccount,
  expect,
  linkIn,
  newEmail,
  signIn,
  test,
  waitForMail,
  waitPastReauthWindow,
} from './fixtures.ts';

// Browser globals used inside page.evaluate() callbacks (the test program has no DOM lib).
declare const location: { href: string; hash: string };

const NEW_PASSWORD = 'another long e2e password';

/** The address bar, read by the page itself, each time the app calls `procedure`. */
async function addressBarWhenCalling(page: Page, procedure: string) {
  const seen: string[] = [];
  await page.route(`**/trpc/${procedure}*`, async (route) => {
    seen.push(await page.evaluate(() => location.href));
    await route.continue();
  });
  return seen;
}

/** Requests to a procedure, batched or not. */
function callsTo(page: Page, procedure: string) {
  const calls: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.split('/').pop()!.split(',').includes(procedure)) calls.push(request.url());
  });
  return calls;
}

const passwordDialog = (page: Page) => page.getByRole('dialog', { name: 'Confirm your password' });

test('sign up with an e-mail address, open the mailed link, choose a password: home, signed in, token gone from the URL', async ({
  page,
  baseURL,
}) => {
  const email = newEmail();
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByRole('link', { name: 'Create account' }).click();
  // E-mail first: no password until the address is proven.
  await expect(page.getByLabel('Password')).toHaveCount(0);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send sign-up link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your inbox' })).toBeFocused();
  await expect(page.getByRole('status')).toContainText(email);

  const link = linkIn(await waitForMail(email, /Complete your registration/));
  expect(link).toMatch(/\/complete-sign-up#token=[\w-]{43}$/);
  const addressBar = await addressBarWhenCalling(page, 'auth.completeRegistration');
  await page.goto(link);
  await expect(page).toHaveURL(`${baseURL}/complete-sign-up`);
  await choosePassword(page, 'Password', PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page.getByTestId('me-email')).toHaveText(email);
  // The token left the address bar before it was posted, and stays out of it.
  expect(addressBar).toEqual([`${baseURL}/complete-sign-up`]);
  expect(await page.evaluate(() => location.href)).toBe(`${baseURL}/`);
  await page.reload();
  await expect(page.getByTestId('me-email')).toHaveText(email);
});

test('forgot password: the mailed link sets a new one, signs in, and signs out the session on another device', async ({
  page,
  browser,
  watch,
}) => {
  const email = createAccount();
  const laptopContext = await browser.newContext();
  const laptop = watch(await laptopContext.newPage());
  await signIn(laptop, email);

  await page.goto('/sign-in');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your inbox' })).toBeVisible();

  await page.goto(linkIn(await waitForMail(email, /Reset your password/)));
  await expect(page).toHaveURL(/\/reset-password$/);
  await choosePassword(page, 'New password', NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);

  await laptop.getByRole('link', { name: 'Sessions' }).click();
  await expect(laptop).toHaveURL(/\/sign-in\?next=%2Fsessions$/);
  await expect(laptop.getByText('Your session ended, please sign in again.')).toBeVisible();
  // The old password is gone; the new one signs in.
  await laptop.getByLabel('Email').fill(email);
  await laptop.getByLabel('Password').fill(PASSWORD);
  await laptop.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(laptop.getByRole('alert')).toHaveText('Invalid e-mail or password');
  await laptop.getByLabel('Password').fill(NEW_PASSWORD);
  await laptop.getByRole('button', { name: 'Sign in', exact: true }).click();
  // Signed in, and back on the page the ended session was opening.
  await expect(laptop).toHaveURL(/\/sessions$/);
  await expect(laptop.getByText('This device')).toBeVisible();
  await laptopContext.close();
});

test('change e-mail: a stale proof opens the password dialog, then the link to the new address switches the account', async ({
  page,
}) => {
  const email = createAccount();
  const target = newEmail('changed');
  await signIn(page, email);
  await page.getByRole('link', { name: 'Account' }).click();
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await waitPastReauthWindow(page);

  await page.getByLabel('New e-mail address').fill(target);
  await page.getByRole('button', { name: 'Send confirmation link' }).click();
  await expect(passwordDialog(page)).toBeVisible();
  await passwordDialog(page).getByLabel('Password').fill(PASSWORD);
  await passwordDialog(page).getByRole('button', { name: 'Confirm' }).click();
  await expect(passwordDialog(page)).toBeHidden();
  await expect(page.getByRole('status')).toContainText(`We sent a link to ${target}`);
  // Nothing changes until the new address is confirmed; the old one hears of it.
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await waitForMail(email, /Your address is being changed/);

  await page.goto(linkIn(await waitForMail(target, /Confirm your new address/)));
  await expect(page.getByRole('status')).toHaveText(`Your account's e-mail address is now ${target}.`);
  expect(await page.evaluate(() => location.hash)).toBe('');
  await page.getByRole('link', { name: 'Go to your account' }).click();
  await expect(page.getByTestId('account-email')).toHaveText(target);
});

test('delete account: only after typing DELETE and confirming the password; then signed out for good', async ({
  page,
}) => {
  const email = createAccount();
  await signIn(page, email);
  await page.getByRole('link', { name: 'Account' }).click();
  await waitPastReauthWindow(page);

  const confirmation = page.getByLabel('Type DELETE to confirm');
  await confirmation.fill('delete');
  await page.getByRole('button', { name: 'Delete account' }).click();
  await expect(confirmation).toBeFocused();
  await expect(page.getByText('Type DELETE to confirm', { exact: true }).and(page.getByRole('alert'))).toBeVisible();
  await expect(passwordDialog(page)).toHaveCount(0);

  await confirmation.fill('DELETE');
  await page.getByRole('button', { name: 'Delete account' }).click();
  await passwordDialog(page).getByLabel('Password').fill(PASSWORD);
  await passwordDialog(page).getByRole('button', { name: 'Confirm' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByText('Your account was deleted.')).toBeVisible();
  await waitForMail(email, /Your account was deleted/);

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid e-mail or password');
});

test('a stale proof opens the password dialog; confirmed, the action completes without a second click', async ({
  page,
  browser,
  watch,
}) => {
  const email = createAccount();
  await signIn(page, email);
  const laptopContext = await browser.newContext();
  const laptop = watch(await laptopContext.newPage());
  await signIn(laptop, email);
  await page.getByRole('link', { name: 'Sessions' }).click();
  await expect(page.getByRole('listitem')).toHaveCount(2);
  await waitPastReauthWindow(page);
  const signOutAll = page.getByRole('button', { name: 'Sign out of all other sessions' });

  // Cancelled: nothing happens, and the reason shows; the session itself is fine.
  await signOutAll.click();
  await expect(passwordDialog(page).getByLabel('Password')).toBeFocused();
  await passwordDialog(page).getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Confirm your password to continue' })).toBeVisible();
  await expect(signOutAll).toBeFocused();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByRole('listitem')).toHaveCount(2);

  // Confirmed: the refused call is sent again by itself.
  await signOutAll.click();
  await passwordDialog(page).getByLabel('Password').fill(PASSWORD);
  const retries = callsTo(page, 'session.revokeOthers');
  await passwordDialog(page).getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('status')).toHaveText('Signed out of 1 other session.');
  await expect(passwordDialog(page)).toHaveCount(0);
  await expect(signOutAll).toBeFocused();
  await expect(page.getByRole('listitem')).toHaveCount(1);
  expect(retries).toHaveLength(1);

  await laptop.getByRole('link', { name: 'Sessions' }).click();
  await expect(laptop).toHaveURL(/\/sign-in\?next=%2Fsessions$/);
  await laptopContext.close();
});

test('the production build has no dev mailbox and no dev banner', async ({ page }) => {
  await page.goto('/dev/mailbox');
  // Not a route of the build: it falls through to the signed-in pages, which send to Sign in.
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fdev%2Fmailbox$/);
  await expect(page.getByText(/dev mailbox/i)).toHaveCount(0);
  expect((await page.request.get('/trpc/dev.mailbox')).status()).toBe(404);
});
