// The signed-in user's own account.
import { TRPCError } from '@trpc/server';
import { protectedProcedure, router } from '../trpc.ts';

export const userRouter = router({
  me: protectedProcedure.query(({ ctx }) => {
    const user = ctx.accounts.getUser(ctx.user.id);
    if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
    return user;
  }),
});
