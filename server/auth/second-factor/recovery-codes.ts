// Recovery codes: ten single-use codes of about 50 random bits each, shown once. Stored as an
// HMAC under a key derived from ENCRYPTION_KEY, not as a plain hash: 50 bits could be
// searched offline from a stolen database, but not without the key (decision 013).
import { createHmac, randomInt } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;

/** No 0/o, 1/l/i: a code copied from paper is read back right. 31 symbols: 4.95 bits each. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const LENGTH = 10;

/** `xxxxx-xxxxx`: 49.5 bits, above the 40 the Copenhagen Book asks for. */
export function generateRecoveryCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** What was typed, as stored: case, spaces and dashes do not matter. */
export const normalizeRecoveryCode = (input: string) => input.toLowerCase().replace(/[\s-]/g, '');

/** Bound to the user, so equal codes of two users never collide and a row cannot move. */
export const hashRecoveryCode = (key: Buffer, userId: string, code: string) =>
  createHmac('sha256', key)
    .update(`${userId}:${normalizeRecoveryCode(code)}`)
    .digest('base64url');
