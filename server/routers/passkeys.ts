// The signed-in user's passkeys: register (two calls: options, then the browser's answer),
// list, rename, remove. Registering and removing need a recent proof (recentAuthProcedure).
// Signing in with one is in auth.ts (passkeyOptions, signInWithPasskey). To drop passkeys,
// see the README ("Removing passkeys").
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { PASSKEY_REFUSED, mailOwner } from '../auth/second-factor/prove.ts';
import { MAX_PASSKEYS, passkeyNameInput, registrationResponseInput } from '../auth/second-factor/passkeys.ts';
import type { Context } from '../context.ts';
import { protectedProcedure, recentAuthProcedure, router } from '../trpc.ts';

const passkeyIdInput = z.string().min(1).max(64);

async function currentAccount(ctx: Context & { user: { id: string } }) {
  const account = await ctx.accounts.getUser(ctx.user.id);
  if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
  return account;
}

const TOO_MANY = `An account has at most ${MAX_PASSKEYS} passkeys: remove one first`;

const noSuchPasskey = () => new TRPCError({ code: 'NOT_FOUND', message: 'No such passkey on this account' });

export const passkeyRouter = router({
  /** Name, creation and last use of each passkey, oldest first. */
  list: protectedProcedure.query(({ ctx }) => ctx.passkeys.list(ctx.user.id)),

  /** Options for the browser's `startRegistration`; answer with `register` within 5 minutes. */
  registrationOptions: recentAuthProcedure.mutation(async ({ ctx }) => {
    await ctx.limits.passkeyPerIp.consume(ctx.ip);
    const account = await currentAccount(ctx);
    if ((await ctx.passkeys.countOf(account.id)) >= MAX_PASSKEYS) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `An account has at most ${MAX_PASSKEYS} passkeys: remove one first`,
      });
    }
    return ctx.passkeys.registrationOptions(account, ctx.now());
  }),

  /**
   * The browser's answer to `registrationOptions`: the passkey is stored and becomes a second
   * factor (and a way to sign in). The account's first factor comes with recovery codes, shown once.
   */
  register: recentAuthProcedure
    .input(z.object({ response: registrationResponseInput, name: passkeyNameInput }))
    .mutation(async ({ ctx, input }) => {
      const account = await currentAccount(ctx);
      const now = ctx.now();
      const event = { type: 'second_factor_enabled', userId: account.id, sessionId: ctx.user.sessionId } as const;
      const refuse = async (reason: string, message: string) => {
        await ctx.audit({ ...event, outcome: 'failure', detail: `passkey: ${reason}` });
        return new TRPCError({ code: 'BAD_REQUEST', message });
      };
      const verified = await ctx.passkeys.verifyRegistration(account.id, input.response, now);
      if (!verified.ok) throw await refuse(verified.reason, PASSKEY_REFUSED[verified.reason]);
      // The passkey and its recovery codes in one transaction: never a factor without a way back.
      const stored = await ctx.db.transaction(async () => {
        const result = await ctx.passkeys.store(account.id, verified.credential, input.name, now);
        if (typeof result === 'string') return result;
        return { ...result, recoveryCodes: await ctx.secondFactors.ensureRecoveryCodes(account.id, now) };
      });
      if (stored === 'too_many') throw await refuse(stored, TOO_MANY);
      if (stored === 'already_registered') throw await refuse(stored, 'This passkey is already registered');
      await ctx.audit({ ...event, outcome: 'success', detail: `passkey ${stored.id}` });
      if (stored.recoveryCodes) await ctx.audit({ ...event, type: 'recovery_codes_generated', outcome: 'success' });
      await mailOwner(ctx, account, 'passkey_added', { name: input.name });
      return { id: stored.id, recoveryCodes: stored.recoveryCodes };
    }),

  /** Only the label changes: no proof needed. */
  rename: protectedProcedure
    .input(z.object({ id: passkeyIdInput, name: passkeyNameInput }))
    .mutation(async ({ ctx, input }) => {
      if (!(await ctx.passkeys.rename(ctx.user.id, input.id, input.name))) throw noSuchPasskey();
      return { ok: true as const };
    }),

  /** Removes a passkey; with the last factor, the recovery codes go too. */
  remove: recentAuthProcedure.input(z.object({ id: passkeyIdInput })).mutation(async ({ ctx, input }) => {
    const account = await currentAccount(ctx);
    const removed = await ctx.secondFactors.removePasskey(account.id, input.id);
    if (!removed) throw noSuchPasskey();
    // A sign-in halfway through may have counted on it: it starts again.
    await ctx.signInChallenges.revokeForUser(account.id);
    await ctx.audit({
      type: 'second_factor_disabled',
      outcome: 'success',
      userId: account.id,
      sessionId: ctx.user.sessionId,
      detail: `passkey ${input.id}`,
    });
    await mailOwner(ctx, account, 'passkey_removed', removed);
    return { ok: true as const };
  }),
});
