// The app's router: one line per sub-router. Add yours here.
import { publicProcedure, router } from '../trpc.ts';
import { accountRouter } from './account.ts';
import { adminRouter } from './admin.ts';
import { authRouter } from './auth.ts';
import { devRouter } from './dev.ts';
import { noteRouter } from './note.ts';
import { passkeyRouter } from './passkeys.ts';
import { reportsRouter } from './reports.ts';
import { secondFactorRouter } from './second-factor.ts';
import { sessionRouter } from './session.ts';
import { userRouter } from './user.ts';

export const appRouter = router({
  /** Liveness and readiness: the process answers and the database responds. */
  health: publicProcedure.query(async ({ ctx }) => {
    await ctx.db.ping();
    return { status: 'ok' as const };
  }),
  auth: authRouter,
  user: userRouter,
  account: accountRouter,
  session: sessionRouter,
  /** Authenticator app and recovery codes. Delete it with its files (see second-factor.ts). */
  secondFactor: secondFactorRouter,
  /** Passkeys: a second factor and a sign-in without the password. Delete it with its files (see passkeys.ts). */
  passkey: passkeyRouter,
  /** Example resource: owned rows behind permissions. Delete it with its files (see note.ts). */
  note: noteRouter,
  admin: adminRouter,
  /** Example: a procedure that calls another service with an exchanged token. */
  reports: reportsRouter,
  /** Development only (the dev mailbox); every call answers 404 in production. */
  dev: devRouter,
});

export type AppRouter = typeof appRouter;
