// The signed-in user's own account.
import { TRPCError } from '@trpc/server';
import { eq } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import { publicUserColumns } from '../auth/sessions.ts';
import { protectedProcedure, router } from '../trpc.ts';

export const userRouter = router({
  me: protectedProcedure.query(({ ctx }) => {
    const [user] = ctx.db.select(publicUserColumns).from(users).where(eq(users.id, ctx.user.id)).all();
    if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
    return user;
  }),
});
