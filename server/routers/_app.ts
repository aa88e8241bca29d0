// The app's router: one line per sub-router. Add yours here.
import { sql } from 'drizzle-orm';
import { publicProcedure, router } from '../trpc.ts';
import { adminRouter } from './admin.ts';
import { authRouter } from './auth.ts';
import { sessionRouter } from './session.ts';
import { userRouter } from './user.ts';

export const appRouter = router({
  /** Liveness and readiness: the process answers and the database responds. */
  health: publicProcedure.query(({ ctx }) => {
    ctx.db.get(sql`SELECT 1`);
    return { status: 'ok' as const };
  }),
  auth: authRouter,
  user: userRouter,
  session: sessionRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
