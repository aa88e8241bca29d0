// Sign-up, sign-in, refresh, sign-out and password change. Thin: the rules live
// in server/auth/; this file wires them to cookies and rate limits.
import { TRPCError } from '@trpc/server';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { users } from '../../db/schema.ts';
import { clearedCookies, REFRESH_COOKIE } from '../auth/cookies.ts';
import { AuthError, toTRPCError } from '../auth/errors.ts';
import { emailInput, newPasswordInput, passwordInput } from '../auth/inputs.ts';
import { setSessionCookies, startSession } from '../auth/sign-in.ts';
import { publicUserColumns } from '../auth/accounts.ts';
import type { Context } from '../context.ts';
import { protectedProcedure, publicProcedure, router } from '../trpc.ts';

const INVALID_CREDENTIALS = 'Invalid e-mail or password';

export const authRouter = router({
  register: publicProcedure
    .input(z.object({ email: emailInput, password: newPasswordInput }))
    .mutation(async ({ ctx, input }) => {
      await ctx.limits.registerPerIp.consume(ctx.ip);
      const passwordHash = await ctx.passwords.hash(input.password);
      const [user] = ctx.db
        .insert(users)
        .values({ email: input.email, passwordHash, createdAt: ctx.now(), updatedAt: ctx.now() })
        .onConflictDoNothing()
        .returning(publicUserColumns)
        .all();
      if (!user) throw new TRPCError({ code: 'CONFLICT', message: 'An account with this e-mail already exists' });
      await startSession(ctx, user);
      return { user };
    }),

  login: publicProcedure
    .input(z.object({ email: emailInput, password: passwordInput }))
    .mutation(async ({ ctx, input }) => {
      await ctx.limits.loginPerIp.consume(ctx.ip);
      await ctx.limits.loginPerAccount.consume(input.email);
      const user = await ctx.accounts.verifyCredentials(input.email, input.password, ctx.now());
      // Unknown e-mail and wrong password: the same error, after the same work.
      if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: INVALID_CREDENTIALS });
      await ctx.limits.loginPerAccount.reset(input.email);
      await startSession(ctx, user);
      return { user };
    }),

  refresh: publicProcedure.mutation(async ({ ctx }) => {
    await ctx.limits.refreshPerIp.consume(ctx.ip);
    const token = ctx.cookies[REFRESH_COOKIE];
    const result = token ? ctx.sessions.rotateRefreshToken(token, ctx.now()) : null;
    if (!result || result.status === 'rejected') {
      for (const cookie of clearedCookies()) ctx.setCookie(cookie);
      throw refreshRefused(ctx, result?.reason);
    }
    const refreshToken = result.status === 'rotated' ? result.refreshToken : null;
    await setSessionCookies(ctx, result.user, result.sessionId, refreshToken);
    return { user: result.user };
  }),

  logout: protectedProcedure.mutation(({ ctx }) => {
    ctx.sessions.revokeSession(ctx.user.id, ctx.user.sessionId, 'logout', ctx.now());
    for (const cookie of clearedCookies()) ctx.setCookie(cookie);
    return { ok: true as const };
  }),

  changePassword: protectedProcedure
    .input(z.object({ currentPassword: passwordInput, newPassword: newPasswordInput }))
    .mutation(async ({ ctx, input }) => {
      const key = `user:${ctx.user.id}`;
      await ctx.limits.loginPerAccount.consume(key);
      const account = ctx.accounts.getUser(ctx.user.id);
      const user = account && (await ctx.accounts.verifyCredentials(account.email, input.currentPassword, ctx.now()));
      if (!user) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'The current password is not correct' });
      }
      await ctx.limits.loginPerAccount.reset(key);
      const passwordHash = await ctx.passwords.hash(input.newPassword);
      ctx.db.update(users).set({ passwordHash, updatedAt: ctx.now() }).where(eq(users.id, ctx.user.id)).run();
      const ended = ctx.sessions.revokeUserSessions(ctx.user.id, 'password_changed', ctx.now(), ctx.user.sessionId);
      return { endedSessions: ended };
    }),
});

function refreshRefused(ctx: Context, reason: 'unknown' | 'expired' | 'revoked' | 'reused' | undefined) {
  if (reason === 'reused') {
    // Someone presented a refresh token that was already rotated: stolen, or replayed.
    ctx.logger.warn('security: refresh token reuse detected; session revoked', { ip: ctx.ip });
  }
  const error =
    reason === undefined
      ? new AuthError('missing_token', 'no refresh cookie')
      : reason === 'revoked' || reason === 'reused'
        ? new AuthError('revoked_session', `refresh token ${reason}`)
        : new AuthError('invalid_token', `refresh token ${reason}`, 'The refresh token is invalid or expired');
  return toTRPCError(error);
}
