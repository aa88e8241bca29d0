// Turning on an authenticator app as a user would, and computing its codes as the app
// would: from the key the server shows, at the server's time.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { expect } from 'vitest';
import { stepAt, totpCode } from '../../server/auth/second-factor/totp.ts';
import type { TestClient } from './client.ts';

export interface Authenticator {
  secret: Uint8Array;
  /** The code the app shows at `at`, `steps` 30-second steps later (or earlier). */
  code: (at: Date, steps?: number) => string;
}

export const authenticatorFor = (manualKey: string): Authenticator => {
  const secret = decodeBase32IgnorePadding(manualKey.replace(/\s/g, ''));
  return { secret, code: (at, steps = 0) => totpCode(secret, stepAt(at) + steps) };
};

/** Turns TOTP on for the signed-in `client`; returns the app and the recovery codes. */
export async function enableTotp(client: TestClient, now: Date) {
  const begin = await client.mutate<{ manualKey: string; uri: string; qrCodeSvg: string }>('secondFactor.beginTotp');
  expect(begin.status, JSON.stringify(begin.body)).toBe(200);
  const app = authenticatorFor(begin.body.result!.data.manualKey);
  const enable = await client.mutate<{ recoveryCodes: string[] }>('secondFactor.enableTotp', { code: app.code(now) });
  expect(enable.status, JSON.stringify(enable.body)).toBe(200);
  return { app, recoveryCodes: enable.body.result!.data.recoveryCodes, begin: begin.body.result!.data };
}
