// Time-based one-time passwords (RFC 6238) as authenticator apps compute them: HMAC-SHA-1,
// six digits, 30-second steps, a 160-bit secret. Pure functions; the rules about storing
// and accepting codes live in factors.ts.
import { randomBytes } from 'node:crypto';
import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, generateHOTP, verifyHOTP } from '@oslojs/otp';
import QRCode from 'qrcode';

const PERIOD_SECONDS = 30;
const DIGITS = 6;

/** 160 random bits, the length RFC 4226 recommends and every authenticator app accepts. */
export const generateTotpSecret = () => new Uint8Array(randomBytes(20));

/** The time step `at` falls in (RFC 6238's T). */
export const stepAt = (at: Date) => Math.floor(at.getTime() / 1000 / PERIOD_SECONDS);

/** The code for a step: what the user's app shows then (tests compute codes with it). */
export const totpCode = (secret: Uint8Array, step: number) => generateHOTP(secret, BigInt(step), DIGITS);

/**
 * The step whose code `code` is, within one step either side of `now` (a clock a little
 * off, or a code typed as it changed), or null. Compared in constant time.
 */
export function matchingStep(secret: Uint8Array, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const current = stepAt(now);
  for (const step of [current - 1, current, current + 1]) {
    if (verifyHOTP(secret, BigInt(step), DIGITS, code)) return step;
  }
  return null;
}

/**
 * What an authenticator app needs: the `otpauth://` URI, the same as a QR code (an SVG
 * drawn here, never by a remote service, which would see the secret), and the key to type.
 */
export async function enrolmentOf(secret: Uint8Array, issuer: string, account: string) {
  const uri = createTOTPKeyURI(issuer, account, secret, PERIOD_SECONDS, DIGITS);
  const qrCodeSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  // Groups of four, as apps show keys; they ignore the spaces when one is typed.
  const manualKey = encodeBase32UpperCaseNoPadding(secret).replace(/(.{4})(?=.)/g, '$1 ');
  return { uri, qrCodeSvg, manualKey };
}
