// The signed-in user's second factors: an authenticator app (TOTP) and recovery codes.
// Turning one on or off needs a recent proof (recentAuthProcedure). To drop second
// factors, delete this file, its line in _app.ts and server/auth/second-factor/ (README).
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { mailOwner } from '../auth/second-factor/prove.ts';
import { enrolmentOf } from '../auth/second-factor/totp.ts';
import type { Context } from '../context.ts';
import { APP_NAME } from '../app-name.ts';
import { protectedProcedure, recentAuthProcedure, router } from '../trpc.ts';

async function currentAccount(ctx: Context & { user: { id: string } }) {
  const account = await ctx.accounts.getUser(ctx.user.id);
  if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
  return account;
}

export const secondFactorRouter = router({
  /** Whether the authenticator app is on, how many recovery codes are unused, and whether it can be turned on here. */
  status: protectedProcedure.query(async ({ ctx }) => ({
    ...(await ctx.secondFactors.statusOf(ctx.user.id)),
    available: ctx.secondFactors.isAvailable,
  })),

  /**
   * A new secret for an authenticator app: its QR code (SVG), `otpauth://` URI and the key
   * to type. Nothing changes at sign-in until enableTotp gets a first correct code.
   */
  beginTotp: recentAuthProcedure.mutation(async ({ ctx }) => {
    if (!ctx.secondFactors.isAvailable) {
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: 'Two-step verification is not available on this server: its ENCRYPTION_KEY is not set (npm run setup)',
      });
    }
    const account = await currentAccount(ctx);
    const secret = await ctx.secondFactors.beginTotp(account.id, ctx.now());
    if (!secret) {
      throw new TRPCError({
        code: 'CONFLICT',
        message: 'Two-step verification is already on: turn it off first to move it to another app',
      });
    }
    return enrolmentOf(secret, APP_NAME, account.email);
  }),

  /** The app's current code turns it on; the first time, the answer holds the recovery codes (shown once). */
  enableTotp: recentAuthProcedure
    .input(
      z.object({
        code: z
          .string()
          .trim()
          .regex(/^\d{6}$/, 'An authenticator code is 6 digits'),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const account = await currentAccount(ctx);
      const result = await ctx.secondFactors.confirmTotp(account.id, input.code, ctx.now());
      if (!result.ok) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message:
            result.reason === 'wrong_code'
              ? 'The code is not correct: check that the phone shows the right time, and type the current code'
              : 'Start again: scan a new QR code',
        });
      }
      const event = { userId: account.id, sessionId: ctx.user.sessionId, outcome: 'success' } as const;
      await ctx.audit({ ...event, type: 'second_factor_enabled', detail: 'totp' });
      if (result.recoveryCodes) await ctx.audit({ ...event, type: 'recovery_codes_generated' });
      await mailOwner(ctx, account, 'second_factor_enabled', {});
      return { recoveryCodes: result.recoveryCodes };
    }),

  /** Turns the authenticator app off; the recovery codes go with it. */
  disableTotp: recentAuthProcedure.mutation(async ({ ctx }) => {
    const account = await currentAccount(ctx);
    const wasOn = await ctx.secondFactors.disableTotp(account.id);
    await ctx.signInChallenges.revokeForUser(account.id);
    if (wasOn) {
      await ctx.audit({
        type: 'second_factor_disabled',
        outcome: 'success',
        userId: account.id,
        sessionId: ctx.user.sessionId,
        detail: 'totp',
      });
      await mailOwner(ctx, account, 'second_factor_disabled', { byAdmin: false });
    }
    return { ok: true as const };
  }),

  /** Ten new recovery codes (shown once); the old ones stop working. */
  regenerateRecoveryCodes: recentAuthProcedure.mutation(async ({ ctx }) => {
    const account = await currentAccount(ctx);
    const recoveryCodes = await ctx.secondFactors.regenerateRecoveryCodes(account.id, ctx.now());
    if (!recoveryCodes) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'Turn on two-step verification first' });
    }
    await ctx.audit({
      type: 'recovery_codes_generated',
      outcome: 'success',
      userId: account.id,
      sessionId: ctx.user.sessionId,
    });
    await mailOwner(ctx, account, 'recovery_codes_generated', {});
    return { recoveryCodes };
  }),
});
