// The admin tools in a real browser, 390 px wide (a phone): find a user, disable them (their
// own browser is signed out on its next action, and sign-in is refused like a wrong
// password), enable them again, send a password reset that arrives and works, change a role
// only after confirming, and filter the audit log by user and event type.
import type { Page } from '@playwright/test';
import { PASSWORD, choosePassword, createAccount, expect, linkIn, signIn, test, waitForMail } from './fixtures.ts';

// Browser globals used inside page.evaluate() callbacks (the test program has no DOM lib).
declare const document: { documentElement: { scrollWidth: number } };

const NEW_PASSWORD = 'a new password from the admin reset';

const fitsPhone = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

/** The users list searched down to the row of `email`. */
async function search(page: Page, email: string) {
  // Any case finds it.
  await page.getByLabel('Search by e-mail').fill(email.toUpperCase());
  const rows = page.getByRole('list', { name: 'Users' }).getByRole('listitem');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(email);
  return rows.first();
}

// One test, one admin sign-in: every e2e sign-in comes from 127.0.0.1, and the suite shares
// that address's password-check budget (RATE_LIMITS.passwordPerIp).
test('an admin finds a user, disables them (signed out at once), enables them again, sends a reset, changes their role after confirming, and filters the audit log', async ({
  page,
  browser,
  watch,
}) => {
  const email = createAccount();
  const userContext = await browser.newContext();
  const user = watch(await userContext.newPage());
  await signIn(user, email);

  await page.setViewportSize({ width: 390, height: 844 });
  const adminEmail = createAccount('admin');
  await signIn(page, adminEmail);
  await page.getByRole('navigation').getByRole('link', { name: 'Admin', exact: true }).click();

  // Nobody disables themselves: their own row has no such button.
  const own = await search(page, adminEmail);
  await expect(own.getByText('You', { exact: true })).toBeVisible();
  await expect(own.getByRole('button', { name: /^Disable/ })).toHaveCount(0);

  // Disabling asks first, then ends every session.
  const row = await search(page, email);
  await row.getByRole('button', { name: `Disable ${email}` }).click();
  await expect(row.getByRole('group')).toContainText(`Disable ${email}?`);
  await fitsPhone(page);
  await row.getByRole('button', { name: 'Disable account' }).click();
  await expect(row.getByRole('status')).toHaveText(`${email} is disabled: 1 session ended, and signing in is refused.`);
  await expect(row.getByText('Disabled', { exact: true })).toBeVisible();

  // Their browser is signed out on its very next action, and cannot sign in again: the
  // answer is a wrong password's.
  await user.getByRole('link', { name: 'Sessions' }).click();
  await expect(user).toHaveURL(/\/sign-in\?next=%2Fsessions$/);
  await expect(user.getByText('Your session ended, please sign in again.')).toBeVisible();
  await user.getByLabel('Email').fill(email);
  await user.getByLabel('Password').fill(PASSWORD);
  await user.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(user.getByRole('alert')).toHaveText('Invalid e-mail or password');

  // Enabled again (after confirming), they get a reset mail whose link signs them in.
  await row.getByRole('button', { name: `Enable ${email}` }).click();
  await row.getByRole('button', { name: 'Enable account' }).click();
  await expect(row.getByRole('status')).toHaveText(`${email} is enabled again and can sign in.`);
  await expect(row.getByText('Disabled', { exact: true })).toHaveCount(0);
  await row.getByRole('button', { name: `Send password reset to ${email}` }).click();
  await expect(row.getByRole('status')).toHaveText(`A password-reset link was sent to ${email}.`);
  await user.goto(linkIn(await waitForMail(email, /Reset your password/)));
  await choosePassword(user, 'New password', NEW_PASSWORD);
  await user.getByRole('button', { name: 'Set new password' }).click();
  await expect(user.getByTestId('me-email')).toHaveText(email);
  await userContext.close();

  // A role changes only once confirmed.
  const role = row.getByLabel(`Role of ${email}`);
  await role.selectOption('admin');
  await expect(row.getByRole('group')).toContainText(`Change ${email} from user to admin?`);
  // The select alone is the role of the user, even while the question is open.
  await expect(row.getByLabel(`Role of ${email}`)).toHaveValue('admin');
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(role).toHaveValue('user');
  await role.selectOption('admin');
  await row.getByRole('button', { name: 'Change role' }).click();
  await expect(row.getByRole('status')).toHaveText(`${email} is now admin.`);
  await page.reload();
  await expect((await search(page, email)).getByLabel(`Role of ${email}`)).toHaveValue('admin');

  // The audit log, by the user's address and an event type, then every type.
  const events = page.getByRole('list', { name: 'Audit events' }).getByRole('listitem');
  await page.getByLabel('User (e-mail or id)').fill(email);
  await page.getByLabel('Event type').selectOption({ label: 'User disabled' });
  await page.getByRole('button', { name: 'Show events' }).click();
  await expect(events).toHaveCount(1);
  await expect(events.first()).toContainText('User disabled');
  await expect(events.first()).toContainText(/by admin \S+, 1 session\(s\) ended/);
  await expect(events.first()).toContainText(email);
  await page.getByLabel('Event type').selectOption({ label: 'All events' });
  await page.getByRole('button', { name: 'Show events' }).click();
  for (const type of ['User enabled', 'Password reset requested', 'Role changed', 'Session ended']) {
    await expect(events.filter({ hasText: type }).first()).toBeVisible();
  }
  await expect(events.filter({ hasText: 'User disabled' })).toHaveCount(1);
  await fitsPhone(page);
  // An address with no account has no events.
  await page.getByLabel('User (e-mail or id)').fill(`nobody-${email}`);
  await page.getByRole('button', { name: 'Show events' }).click();
  await expect(page.getByText('No events match.')).toBeVisible();
});
