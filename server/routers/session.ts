// The signed-in user's sessions (devices): list them, end one, end all the others.
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { auditEndedSessions, clearSessionCookies } from '../auth/sign-in.ts';
import { protectedProcedure, recentAuthProcedure, requireRecentAuth, router } from '../trpc.ts';

export const sessionRouter = router({
  list: protectedProcedure.query(async ({ ctx }) =>
    (await ctx.sessions.listSessions(ctx.user.id, ctx.now())).map((session) => ({
      ...session,
      current: session.id === ctx.user.sessionId,
    })),
  ),

  /** Ending this session needs nothing more; ending another needs a recent password proof, as revokeOthers does. */
  revoke: protectedProcedure.input(z.object({ id: z.string().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    if (input.id !== ctx.user.sessionId) await requireRecentAuth(ctx);
    if (!(await ctx.sessions.revokeSession(ctx.user.id, input.id, 'revoked', ctx.now()))) {
      throw new TRPCError({ code: 'NOT_FOUND', message: 'No such session' });
    }
    await auditEndedSessions(ctx, ctx.user.id, [input.id], 'revoked');
    if (input.id === ctx.user.sessionId) clearSessionCookies(ctx);
    return { ok: true as const };
  }),

  /** Recent auth: a stolen session must not be able to sign its owner out everywhere else. */
  revokeOthers: recentAuthProcedure.mutation(async ({ ctx }) => {
    const ended = await ctx.sessions.revokeUserSessions(ctx.user.id, 'revoked', ctx.now(), ctx.user.sessionId);
    await auditEndedSessions(ctx, ctx.user.id, ended, 'revoked');
    return { endedSessions: ended.length };
  }),
});
