// The most common passwords, refused when a password is set (ASVS 5.0 V6.2.4). The list
// ships with @zxcvbn-ts/language-common (no network), most common first; raise
// COMMON_PASSWORD_COUNT to refuse more of it (49,233 entries in all).
import { dictionary } from '@zxcvbn-ts/language-common';
import { normalizePassword } from './passwords.ts';

/** 3,534 of these meet the 8-character minimum: ASVS asks for at least 3,000. */
export const COMMON_PASSWORD_COUNT = 10_000;

// Case-insensitive, since 'Password1' is guessed right after 'password1'.
const comparable = (password: string) => normalizePassword(password).toLowerCase();

// Built once at boot (~45 ms, ~3 MB of heap with the package), not on the first sign-up.
const common = new Set(dictionary['passwords-common'].slice(0, COMMON_PASSWORD_COUNT).map(comparable));

/**
 * Whether `password` is among the most common ones, ignoring case and Unicode spelling.
 *
 * @example
 * isCommonPassword('Password1') // => true
 */
export const isCommonPassword = (password: string) => common.has(comparable(password));
