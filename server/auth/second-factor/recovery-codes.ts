// Recovery codes: ten single-use codes of about 50 random bits each, shown once, stored as
// argon2id hashes (ASVS 6.5.2: under 112 bits, a password hash with a salt), so a stolen
// database does not give them away (decision 013).
import { randomInt } from 'node:crypto';

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
