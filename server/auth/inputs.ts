// Input schemas shared by the auth procedures: what a valid e-mail and password are.
import { z } from 'zod';
import { isCommonPassword } from './common-passwords.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalizePassword } from './passwords.ts';

/** Trimmed and lower-cased, so `Ada@Example.com ` and `ada@example.com` are one account. */
export const emailInput = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'E-mail address is too long')
  .pipe(z.email('Enter a valid e-mail address'));

const TOO_LONG = `Password must be at most ${MAX_PASSWORD_LENGTH} characters`;
/** Characters as people count them (code points, after NFKC), not UTF-16 units. */
const length = (password: string) => [...password].length;

/** NFKC-normalised, at most 256 characters; longer input is refused, never hashed. */
const password = z
  .string()
  .max(MAX_PASSWORD_LENGTH * 4, TOO_LONG)
  .transform(normalizePassword)
  .refine((value) => length(value) <= MAX_PASSWORD_LENGTH, TOO_LONG);

/** A password being set: 8 to 256 characters, and not one of the most common passwords. */
export const newPasswordInput = password
  // abort: a too-short password is told only that, not also that it is common.
  .refine((value) => length(value) >= MIN_PASSWORD_LENGTH, {
    message: `Password must be at least ${MIN_PASSWORD_LENGTH} characters`,
    abort: true,
  })
  .refine((value) => !isCommonPassword(value), 'This password is one of the most common passwords; choose another');

/** A password being checked: any length up to the maximum, common or not (older ones still sign in). */
export const passwordInput = password.refine((value) => value.length > 0, 'Enter your password');

/** A token from an e-mailed link: 32 random bytes, base64url. Anything else is refused unread. */
export const linkTokenInput = z
  .string()
  .regex(/^[\w-]{43}$/, 'This link is invalid; open the newest one from your e-mail');

/** A refresh token in a native client's request body (browsers send the cookie): opaque base64url. */
export const refreshTokenInput = z.string().regex(/^[\w-]{1,128}$/, 'The refresh token is malformed');

/** A native client's second-factor step (auth.login's `secondFactor.challenge`). */
export const challengeTokenInput = z.string().regex(/^[\w-]{1,128}$/, 'The challenge is malformed');
