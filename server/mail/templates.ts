// Every mail the app sends, in one place: each kind is a function from typed data to a
// subject, a plain-text body and a simple HTML body. Edit it to change a mail's wording or
// to add a kind (add its data to MailData, then its function to `templates`).

import { APP_NAME } from '../app-name.ts';

export { APP_NAME };

/** What each kind of mail needs; callers of enqueueMail are type-checked against it. */
export interface MailData {
  /** To an address that has no account yet: the link completes the registration. */
  sign_up: { link: string };
  /** To an address that already has an account, when someone tries to register it again. */
  account_exists: { signInUrl: string; resetUrl: string };
  password_reset: { link: string };
  /** To an address with no account, when someone asks to reset its password. */
  password_reset_no_account: { signUpUrl: string };
  /** A reset asked for a disabled account: no link, only why. */
  password_reset_disabled: Record<string, never>;
  /** To the NEW address: the link confirms it. */
  email_change: { link: string; newEmail: string };
  /** To the OLD address, when a change is requested. */
  email_change_notice: { newEmail: string };
  /** To the old address, once the change is confirmed. */
  email_changed: Record<string, never>;
  account_deleted: Record<string, never>;
  second_factor_enabled: Record<string, never>;
  /** `byAdmin`: an administrator turned it off (admin.removeSecondFactor). */
  second_factor_disabled: { byAdmin: boolean };
  /** Someone signed in (or proved it was them) with a recovery code. */
  recovery_code_used: { remaining: number };
  /** New recovery codes were made: the old ones stopped working. */
  recovery_codes_generated: Record<string, never>;
  /** Five wrong authenticator codes in a row: codes wait 15 minutes. */
  second_factor_locked: Record<string, never>;
  /** A passkey was registered to the account; `name` is the owner's label for it. */
  passkey_added: { name: string };
  /** `lastFactor`: it was the account's last second factor, so its recovery codes went too. */
  passkey_removed: { name: string; lastFactor: boolean };
}
export type MailKind = keyof MailData;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Facts about the mail rather than its data: how long its link works ("24 hours"). */
export interface MailContext {
  validFor: string;
}

type Link = { href: string; label: string };
type Block = string | Link;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * One mail from paragraphs and links, in both parts: the text part puts each link on a line
 * of its own (mail clients make it clickable), the HTML part escapes every value it inserts.
 */
function compose(subject: string, blocks: Block[]): RenderedMail {
  const text = blocks.map((b) => (typeof b === 'string' ? b : `${b.label}:\n${b.href}`)).join('\n\n');
  const html = blocks
    .map((b) =>
      typeof b === 'string'
        ? `<p>${escapeHtml(b)}</p>`
        : `<p><a href="${escapeHtml(b.href)}">${escapeHtml(b.label)}</a></p>`,
    )
    .join('\n');
  return { subject: `${APP_NAME}: ${subject}`, text: `${text}\n`, html: `${html}\n` };
}

const IGNORE = 'If you did not ask for this, ignore this mail: nothing changes.';

/**
 * The templates, by kind.
 *
 * @example
 * templates.password_reset({ link: 'https://app.example/reset-password#token=…' }, { validFor: '1 hour' })
 * // => { subject: 'tRPC JWT starter: Reset your password', text: '…', html: '<p>…</p>…' }
 */
export const templates: { [K in MailKind]: (data: MailData[K], context: MailContext) => RenderedMail } = {
  sign_up: ({ link }, { validFor }) =>
    compose('Complete your registration', [
      `Someone (we hope you) started creating an account for ${APP_NAME} with this address.`,
      { href: link, label: 'Complete your registration' },
      `The link works once, for ${validFor}. ${IGNORE}`,
    ]),

  account_exists: ({ signInUrl, resetUrl }) =>
    compose('You already have an account', [
      `Someone tried to create an account for ${APP_NAME} with this address, which already has one.`,
      'If it was you, sign in, or reset your password if you forgot it:',
      { href: signInUrl, label: 'Sign in' },
      { href: resetUrl, label: 'Reset your password' },
      `Otherwise ignore this mail: nobody can use your account without your password.`,
    ]),

  password_reset: ({ link }, { validFor }) =>
    compose('Reset your password', [
      `Someone (we hope you) asked to reset the password of your ${APP_NAME} account.`,
      { href: link, label: 'Choose a new password' },
      `The link works once, for ${validFor}. Resetting signs you out everywhere. ${IGNORE}`,
    ]),

  password_reset_no_account: ({ signUpUrl }) =>
    compose('Password reset requested', [
      `Someone (we hope you) asked to reset the password of a ${APP_NAME} account with this address, ` +
        'but no account uses it. Perhaps you signed up with another address?',
      { href: signUpUrl, label: 'Create an account' },
      IGNORE,
    ]),

  password_reset_disabled: () =>
    compose('Password reset requested', [
      `Someone (we hope you) asked to reset the password of your ${APP_NAME} account, but an ` +
        'administrator has disabled it, so no reset link was sent. Ask them to enable it again.',
      IGNORE,
    ]),

  email_change: ({ link, newEmail }, { validFor }) =>
    compose('Confirm your new address', [
      `Someone (we hope you) asked to use ${newEmail} for a ${APP_NAME} account.`,
      { href: link, label: 'Confirm this address' },
      `The link works once, for ${validFor}. ${IGNORE}`,
    ]),

  email_change_notice: ({ newEmail }) =>
    compose('Your address is being changed', [
      `Someone asked to change the address of your ${APP_NAME} account to ${newEmail}. ` +
        'The change takes effect once that address is confirmed.',
      'If this was not you, reset your password now: someone else may be signed in to your account.',
    ]),

  email_changed: () =>
    compose('Your address was changed', [
      `The address of your ${APP_NAME} account was changed; mail now goes to the new address.`,
      'If this was not you, reset your password and contact us.',
    ]),

  account_deleted: () =>
    compose('Your account was deleted', [
      `Your ${APP_NAME} account and its data were deleted. Goodbye, and thank you for trying it.`,
    ]),

  second_factor_enabled: () =>
    compose('Two-step verification is on', [
      `Signing in to your ${APP_NAME} account now asks for a code from your authenticator app after the password.`,
      'Keep your recovery codes somewhere safe: each works once if you lose the app.',
      'If this was not you, someone else has your account and their own authenticator: contact an administrator now.',
    ]),

  recovery_codes_generated: () =>
    compose('New recovery codes', [
      `New recovery codes were made for your ${APP_NAME} account; the old ones no longer work.`,
      'If this was not you, someone has your account: contact an administrator now.',
    ]),

  second_factor_locked: () =>
    compose('Wrong authenticator codes', [
      `Someone entered five wrong authenticator codes for your ${APP_NAME} account in a row, so codes are refused ` +
        'for 15 minutes. Your recovery codes still work.',
      'Only someone who knew your password, had a password-reset link or was signed in could try: if this was not ' +
        'you, change your password.',
    ]),

  second_factor_disabled: ({ byAdmin }) =>
    compose('Two-step verification is off', [
      byAdmin
        ? `An administrator removed the second factors of your ${APP_NAME} account (authenticator app, passkeys and recovery codes), as you asked or because you lost them.`
        : `Two-step verification was turned off for your ${APP_NAME} account: signing in needs only the password now.`,
      'If this was not you, reset your password now and contact us.',
    ]),

  passkey_added: ({ name }) =>
    compose('A passkey was added', [
      `The passkey "${name}" was added to your ${APP_NAME} account: it signs in without the password, and ` +
        'signing in with the password now asks for a second step.',
      'If this was not you, someone else can sign in as you: contact an administrator now.',
    ]),

  passkey_removed: ({ name, lastFactor }) =>
    compose('A passkey was removed', [
      `The passkey "${name}" was removed from your ${APP_NAME} account and no longer signs in.`,
      ...(lastFactor
        ? [
            'It was your last second factor: signing in needs only the password now, and your recovery codes no longer work.',
          ]
        : []),
      'If this was not you, reset your password now and contact us.',
    ]),

  recovery_code_used: ({ remaining }) =>
    compose('A recovery code was used', [
      `A recovery code was just used for your ${APP_NAME} account; it works no more. ` +
        `${remaining === 0 ? 'You have no codes left: create new ones on the Security page.' : `${remaining} unused code(s) left.`}`,
      'If this was not you, someone has your password and a recovery code: reset your password now and create new codes.',
    ]),
};

/**
 * Renders one mail. `validFor` is how long the link in it works.
 *
 * @example
 * renderMail('sign_up', { link }, { validFor: '24 hours' }).subject // => 'tRPC JWT starter: Complete your registration'
 */
export function renderMail<K extends MailKind>(kind: K, data: MailData[K], context: MailContext): RenderedMail {
  return templates[kind](data, context);
}
