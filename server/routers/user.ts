// The signed-in user's own account.
import { TRPCError } from '@trpc/server';
import { permissionsOf } from '../auth/permissions.ts';
import { protectedProcedure, router } from '../trpc.ts';

export const userRouter = router({
  me: protectedProcedure.query(async ({ ctx }) => {
    const user = await ctx.accounts.getUser(ctx.user.id);
    if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
    return user;
  }),

  /**
   * What the user's role (as in the access token) may do, for the UI to show only that.
   * The server decides on every call anyway: this list never grants anything.
   */
  permissions: protectedProcedure.query(async ({ ctx }) => permissionsOf(ctx.user.role)),
});
