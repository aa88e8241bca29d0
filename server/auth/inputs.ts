// Input schemas shared by the auth procedures: what a valid e-mail and password are.
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.ts';

/** Trimmed and lower-cased, so `Ada@Example.com ` and `ada@example.com` are one account. */
export const emailInput = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'E-mail address is too long')
  .pipe(z.email('Enter a valid e-mail address'));

/** A password being set: 8 to 256 characters. Longer input is refused, never hashed. */
export const newPasswordInput = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `Password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `Password must be at most ${MAX_PASSWORD_LENGTH} characters`);

/** A password being checked: any length up to the maximum (older, shorter ones still sign in). */
export const passwordInput = z
  .string()
  .min(1, 'Enter your password')
  .max(MAX_PASSWORD_LENGTH, `Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
