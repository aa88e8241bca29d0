// Recovery codes: ten single-use codes of 124 random bits each, shown once. At that
// length a plain SHA-256 is safe to store (ASVS 6.5.2: a password hash is needed only
// below 112 bits), so checking one is a single indexed lookup, not ten argon2id runs a
// signed-in user could make the server do on demand (decision 013).
import { createHash, randomInt } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;

/** No 0/o, 1/l/i: a code copied from paper is read back right. 31 symbols: 4.95 bits each. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const GROUPS = 5;
const GROUP_LENGTH = 5;

/** `xxxxx-xxxxx-xxxxx-xxxxx-xxxxx`: 25 symbols, 123.9 bits. */
export function generateRecoveryCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** What was typed, as stored: case, spaces and dashes do not matter. */
export const normalizeRecoveryCode = (input: string) => input.toLowerCase().replace(/[\s-]/g, '');

export const hashRecoveryCode = (code: string) =>
  createHash('sha256').update(normalizeRecoveryCode(code)).digest('base64url');
