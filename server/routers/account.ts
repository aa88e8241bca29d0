// The signed-in user's account: change the e-mail address (confirmed from the new one)
// and delete the account. Both need a recent password proof (recentAuthProcedure).
import { z } from 'zod';
import { confirmEmailChange, deleteAccount, requestEmailChange } from '../auth/account-lifecycle.ts';
import { emailInput, linkTokenInput } from '../auth/inputs.ts';
import { publicProcedure, recentAuthProcedure, router } from '../trpc.ts';

export const accountRouter = router({
  /** Sends a confirmation link to `newEmail` and a notice to the current address. */
  changeEmail: recentAuthProcedure.input(z.object({ newEmail: emailInput })).mutation(async ({ ctx, input }) => {
    await requestEmailChange(ctx, input.newEmail);
    return { ok: true as const };
  }),

  /** Public: the link may be opened in another browser; the token alone proves the new address. */
  confirmEmailChange: publicProcedure
    .input(z.object({ token: linkTokenInput }))
    .mutation(async ({ ctx, input }) => confirmEmailChange(ctx, input.token)),

  /** Removes the user and ends every session at once; the audit trail stays, without personal data. */
  delete: recentAuthProcedure.mutation(async ({ ctx }) => {
    await deleteAccount(ctx);
    return { ok: true as const };
  }),
});
