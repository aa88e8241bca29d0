// Shared browser-test fixtures: accounts made with `npm run user:create` (as an
// operator would), sign-in through the UI, the mail the SMTP sink caught, and a console
// that must stay clean.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Page, test as base, expect } from '@playwright/test';
import { MAILBOX_FILE, serverEnv } from '../../playwright.config.ts';
import type { SinkMail } from './smtp-sink.ts';

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
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);
}

/** Fills a new password and its repetition (NewPasswordField), as a user choosing one does. */
export async function choosePassword(page: Page, label: 'Password' | 'New password', password: string) {
  await page.getByLabel(label, { exact: true }).fill(password);
  await page.getByLabel(`Repeat the ${label.toLowerCase()}`).fill(password);
}

/** Waits until the access token (ACCESS_TOKEN_TTL=3 s) has certainly expired. */
export const waitPastAccessLifetime = (page: Page) => page.waitForTimeout(4_000);

/** Waits until the session's password proof (REAUTH_WINDOW=5 s) is certainly stale. */
export const waitPastReauthWindow = (page: Page) => page.waitForTimeout(6_000);

/** A fresh address nobody has used yet. */
export const newEmail = (prefix = 'new') => `${prefix}-${randomBytes(4).toString('hex')}@example.com`;

/**
 * The newest mail to `to` whose subject matches, as the SMTP sink received it. The server's
 * mail worker sends within about a second of the request; this waits up to 10 s.
 */
export async function waitForMail(to: string, subject: RegExp): Promise<SinkMail> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = existsSync(MAILBOX_FILE) ? readFileSync(MAILBOX_FILE, 'utf8').split('\n').filter(Boolean) : [];
    const mail = lines
      .map((line) => JSON.parse(line) as SinkMail)
      .findLast((mail) => mail.to.includes(to) && subject.test(mail.subject));
    if (mail) return mail;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with a subject matching ${subject} within 10 s`);
    await sleep(100);
  }
}

/** The link into the app in a mail's text (the first one). */
export function linkIn(mail: SinkMail): string {
  const link = mail.text.match(new RegExp(`${serverEnv.APP_ORIGIN}/\\S+`))?.[0];
  if (!link) throw new Error(`no link in "${mail.subject}":\n${mail.text}`);
  return link;
}

/** A 401 or 403 the app handles by design still shows in Chromium's console as a failed load. */
const EXPECTED_NETWORK_ERROR = /^Failed to load resource: the server responded with a status of (401|403) /;

/**
 * Every test fails on a console error or uncaught exception in any page it opens:
 * pages of the default context are watched; call `watch(page)` for other contexts.
 */
export const test = base.extend<{ watch: (page: Page) => Page }>({
  // One client address per test (the e2e server trusts one proxy): see serverEnv.TRUST_PROXY.
  // Random within the first 64 bits: the limits count an IPv6 client per /64.
  extraHTTPHeaders: async ({ extraHTTPHeaders }, use) => {
    await use({
      ...extraHTTPHeaders,
      'x-forwarded-for': `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`,
    });
  },
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
