// A second-factor proof at any step that asks for one (completing a sign-in, step-up,
// a password reset): the attempt limits, the audit log and the owner's mail, in one place.
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import { enqueueMail } from '../../mail/outbox.ts';
import type { MailData, MailKind } from '../../mail/templates.ts';
import { RATE_LIMITS } from '../rate-limits.ts';
import { type PasskeyFailure, authenticationResponseInput } from './passkeys.ts';

/** `{ code }` from the authenticator app, `{ recoveryCode }`, or `{ passkey }` (what startAuthentication returned). */
export const secondFactorInput = z.union([
  z.strictObject({
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'An authenticator code is 6 digits'),
  }),
  z.strictObject({ recoveryCode: z.string().trim().min(10, 'A recovery code has 10 letters and digits').max(32) }),
  z.strictObject({ passkey: authenticationResponseInput }),
]);
export type SecondFactorProof = z.infer<typeof secondFactorInput>;

export type ProofPurpose = 'sign_in' | 'reauthenticate' | 'password_reset';

const WRONG = {
  totp: 'The code is not correct, or was already used: wait for the next one',
  recovery_code: 'The recovery code is not correct, or was already used',
};

/** What a passkey refused means to its user. */
export const PASSKEY_REFUSED: Record<PasskeyFailure, string> = {
  expired_challenge: 'The passkey request expired or was already answered: try again',
  unknown_passkey: 'This passkey is not registered to this account: choose another, or use another way',
  not_verified: 'The passkey could not be verified: try again, or use another way',
};

/**
 * Checks `proof` for `user`; throws a 429 when the account's attempts are used up, and
 * returns the message to answer with when the proof is wrong (null when it is right).
 * Every attempt is audited; a recovery code used is mailed to the owner.
 */
export async function checkSecondFactor(
  ctx: Context,
  user: { id: string; email: string },
  proof: SecondFactorProof,
  purpose: ProofPurpose,
  sessionId?: string,
): Promise<string | null> {
  const now = ctx.now();
  const event = { type: 'second_factor_used', userId: user.id, sessionId } as const;
  if ('passkey' in proof) {
    // No attempt limit: a signature cannot be guessed, and each try needs a challenge (passkeyPerIp).
    const result = await ctx.passkeys.authenticate(proof.passkey, now, user.id);
    await ctx.audit({
      ...event,
      outcome: result.ok ? 'success' : 'failure',
      detail: result.ok ? `passkey ${purpose}` : `passkey ${purpose}: ${result.reason}`,
    });
    return result.ok ? null : PASSKEY_REFUSED[result.reason];
  }
  if ('recoveryCode' in proof) {
    const key = `${user.id} ${ctx.ip}`;
    await ctx.limits.recoveryCodePerAccountAndIp.consume(key);
    if (!(await ctx.secondFactors.useRecoveryCode(user.id, proof.recoveryCode, now))) {
      await ctx.audit({ ...event, outcome: 'failure', detail: `recovery_code ${purpose}` });
      return WRONG.recovery_code;
    }
    await ctx.audit({ ...event, outcome: 'success', detail: `recovery_code ${purpose}` });
    const remaining = await ctx.secondFactors.unusedRecoveryCodes(user.id);
    await mailOwner(ctx, user, 'recovery_code_used', { remaining });
    return null;
  }
  const attempt = await ctx.limits.totpPerAccount.consume(user.id);
  const result = await ctx.secondFactors.checkTotp(user.id, proof.code, now);
  if (result === 'ok') {
    // Consecutive failures are what the limit counts: the owner's right code starts it again.
    await ctx.limits.totpPerAccount.reset(user.id);
    await ctx.audit({ ...event, outcome: 'success', detail: `totp ${purpose}` });
    return null;
  }
  if (result === 'unreadable') {
    ctx.logger.error('A TOTP secret does not open with ENCRYPTION_KEY: was the key changed? (decision 013)', {
      userId: user.id,
    });
  }
  await ctx.audit({ ...event, outcome: 'failure', detail: `totp ${purpose}: ${result}` });
  // The last wrong code before the wait: someone may be guessing, past the password.
  if (attempt.consumedPoints === RATE_LIMITS.totpPerAccount.points) {
    await mailOwner(ctx, user, 'second_factor_locked', {});
  }
  return WRONG.totp;
}

export type SecondFactorMethod = 'totp' | 'passkey' | 'recovery_code';

/** What the account can prove itself with, for the client to offer: its factors, and recovery codes. */
export async function secondFactorMethods(ctx: Context, userId: string): Promise<SecondFactorMethod[]> {
  const status = await ctx.secondFactors.statusOf(userId);
  return [
    ...(status.totp ? (['totp'] as const) : []),
    ...(status.passkeys > 0 ? (['passkey'] as const) : []),
    'recovery_code',
  ];
}

/** Tells the owner at their address: a change or an attempt they did not make is their cue to act. */
export async function mailOwner<K extends MailKind>(
  ctx: Context,
  user: { id: string; email: string },
  kind: K,
  data: MailData[K],
) {
  await enqueueMail(ctx.db, { kind, data, to: user.email, userId: user.id }, { now: ctx.now() });
  ctx.mail.wake();
}

/** checkSecondFactor, throwing `code` with the message when the proof is wrong. */
export async function requireSecondFactor(
  ctx: Context,
  user: { id: string; email: string },
  proof: SecondFactorProof,
  purpose: ProofPurpose,
  code: 'UNAUTHORIZED' | 'BAD_REQUEST',
  sessionId?: string,
) {
  const wrong = await checkSecondFactor(ctx, user, proof, purpose, sessionId);
  if (wrong) throw new TRPCError({ code, message: wrong });
}
