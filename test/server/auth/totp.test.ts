// The pure parts of two-step verification: RFC 6238's own test vectors, the window, the
// recovery codes' alphabet and the sealing of secrets.
import { expect, test } from 'vitest';
import {
  generateRecoveryCode,
  hashRecoveryCode,
  normalizeRecoveryCode,
} from '../../../server/auth/second-factor/recovery-codes.ts';
import { createSecretBox } from '../../../server/auth/second-factor/secret-box.ts';
import { matchingStep, stepAt, totpCode } from '../../../server/auth/second-factor/totp.ts';

const RFC_SECRET = new TextEncoder().encode('12345678901234567890');

test.each([
  [59, '287082'],
  [1111111109, '081804'],
  [1234567890, '005924'],
  [2000000000, '279037'],
])('RFC 6238 appendix B (SHA-1), the last six digits: T=%i gives %s', (seconds, code) => {
  expect(totpCode(RFC_SECRET, stepAt(new Date(seconds * 1000)))).toBe(code);
});

test('a code matches its own step and one either side, nothing further, and only six digits', () => {
  const now = new Date(1_700_000_000_000);
  const step = stepAt(now);
  for (const offset of [-1, 0, 1])
    expect(matchingStep(RFC_SECRET, totpCode(RFC_SECRET, step + offset), now)).toBe(step + offset);
  for (const offset of [-2, 2]) expect(matchingStep(RFC_SECRET, totpCode(RFC_SECRET, step + offset), now)).toBeNull();
  expect(matchingStep(RFC_SECRET, `${totpCode(RFC_SECRET, step)}0`, now)).toBeNull();
  expect(matchingStep(RFC_SECRET, ' 12345', now)).toBeNull();
});

test('recovery codes: 25 symbols of an unambiguous alphabet (123.9 bits), typed any way, hashed alike', () => {
  const codes = Array.from({ length: 2000 }, generateRecoveryCode);
  expect(new Set(codes).size).toBe(codes.length);
  for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){4}$/);
  const symbols = new Set(codes.join('').replace(/-/g, ''));
  expect(symbols.size).toBe(31);
  for (const ambiguous of ['0', 'o', '1', 'l', 'i']) expect(symbols.has(ambiguous)).toBe(false);
  const code = codes[0]!;
  const typed = ` ${code.toUpperCase().replace(/-/g, ' ')} `;
  expect(normalizeRecoveryCode(typed)).toBe(code.replace(/-/g, ''));
  expect(hashRecoveryCode(typed)).toBe(hashRecoveryCode(code));
  expect(hashRecoveryCode(code)).not.toBe(hashRecoveryCode(codes[1]!));
});

test('a sealed secret opens only under its key and context, and not once altered', () => {
  const box = createSecretBox(Buffer.alloc(32, 9));
  const secret = new Uint8Array([1, 2, 3, 4, 5]);
  const sealed = box.seal(secret, 'totp:a');
  expect(box.seal(secret, 'totp:a')).not.toBe(sealed); // a fresh IV each time
  expect(box.open(sealed, 'totp:a')).toEqual(Buffer.from(secret));
  expect(box.open(sealed, 'totp:b')).toBeNull();
  expect(createSecretBox(Buffer.alloc(32, 8)).open(sealed, 'totp:a')).toBeNull();
  const [version, iv, body] = sealed.split('.');
  const flipped = Buffer.from(body!, 'base64url');
  flipped[0]! ^= 1;
  expect(box.open(`${version}.${iv}.${flipped.toString('base64url')}`, 'totp:a')).toBeNull();
  expect(box.open('v1.garbage', 'totp:a')).toBeNull();
  expect(box.open('v2.a.b', 'totp:a')).toBeNull();
});
