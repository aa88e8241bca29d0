// A second-factor proof at any step that asks for one (completing a sign-in, step-up,
// a password reset): the attempt limits, the audit log and the owner's mail, in one place.
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import { enqueueMail } from '../../mail/outbox.ts';

/** `{ code }` from the authenticator app, or `{ recoveryCode }`. */
export const secondFactorInput = z.union([
  z.strictObject({
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'An authenticator code is 6 digits'),
  }),
  z.strictObject({ recoveryCode: z.string().trim().min(10, 'A recovery code has 10 letters and digits').max(32) }),
]);
export type SecondFactorProof = z.infer<typeof secondFactorInput>;

export type ProofPurpose = 'sign_in' | 'reauthenticate' | 'password_reset';

const WRONG = {
  totp: 'The code is not correct, or was already used: wait for the next one',
  recovery_code: 'The recovery code is not correct, or was already used',
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
  const method = 'code' in proof ? 'totp' : 'recovery_code';
  const limit = method === 'totp' ? ctx.limits.totpPerAccount : ctx.limits.recoveryCodePerAccount;
  await limit.consume(user.id);
  const now = ctx.now();
  const result =
    'code' in proof
      ? await ctx.secondFactors.checkTotp(user.id, proof.code, now)
      : (await ctx.secondFactors.useRecoveryCode(user.id, proof.recoveryCode, now))
        ? 'ok'
        : 'wrong_code';
  const event = { type: 'second_factor_used', userId: user.id, sessionId } as const;
  if (result !== 'ok') {
    await ctx.audit({ ...event, outcome: 'failure', detail: `${method} ${purpose}: ${result}` });
    return WRONG[method];
  }
  // Consecutive failures are what the limit counts: the owner's right code starts it again.
  await limit.reset(user.id);
  await ctx.audit({ ...event, outcome: 'success', detail: `${method} ${purpose}` });
  if (method === 'recovery_code') {
    const remaining = await ctx.secondFactors.unusedRecoveryCodes(user.id);
    await enqueueMail(
      ctx.db,
      { kind: 'recovery_code_used', data: { remaining }, to: user.email, userId: user.id },
      { now },
    );
    ctx.mail.wake();
  }
  return null;
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
