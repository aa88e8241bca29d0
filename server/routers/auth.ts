// Sign-up, sign-in, refresh, sign-out and password change. Thin: the rules live
// in server/auth/; this file wires them to cookies and rate limits.
import { TRPCError } from '@trpc/server';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { users } from '../../db/schema.ts';
import { clearedCookies, REFRESH_COOKIE } from '../auth/cookies.ts';
import { AuthError, toTRPCError } from '../auth/errors.ts';
import { emailInput, newPasswordInput, passwordInput } from '../auth/inputs.ts';
import { auditEndedSessions, setSessionCookies, startSession } from '../auth/sign-in.ts';
import { publicUserColumns } from '../auth/accounts.ts';
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
      const sessionId = await startSession(ctx, user);
      ctx.audit({ type: 'sign_up', outcome: 'success', userId: user.id, sessionId });
      return { user };
    }),

  login: publicProcedure
    .input(z.object({ email: emailInput, password: passwordInput }))
    .mutation(async ({ ctx, input }) => {
      await ctx.limits.passwordAttempt(ctx.ip, input.email);
      const user = await ctx.accounts.verifyCredentials(input.email, input.password, ctx.now());
      // Unknown e-mail and wrong password: the same error, after the same work.
      if (!user) {
        ctx.audit({ type: 'login', outcome: 'failure', detail: `email=${input.email}` });
        throw new TRPCError({ code: 'UNAUTHORIZED', message: INVALID_CREDENTIALS });
      }
      await ctx.limits.passwordAccepted(ctx.ip, input.email);
      const sessionId = await startSession(ctx, user);
      ctx.audit({ type: 'login', outcome: 'success', userId: user.id, sessionId });
      return { user };
    }),

  refresh: publicProcedure.mutation(async ({ ctx }) => {
    await ctx.limits.refreshPerIp.consume(ctx.ip);
    const token = ctx.cookies[REFRESH_COOKIE];
    const result = token ? ctx.sessions.rotateRefreshToken(token, ctx.now()) : null;
    if (!result || result.status === 'rejected') {
      for (const cookie of clearedCookies()) ctx.setCookie(cookie);
      if (result?.reason === 'reused') {
        // A rotated refresh token came back: stolen, or replayed. The whole session is gone.
        ctx.logger.warn('security: refresh token reuse detected; session revoked', { ip: ctx.ip });
        ctx.audit({
          type: 'refresh_reuse_detected',
          outcome: 'failure',
          userId: result.userId,
          sessionId: result.sessionId,
        });
        auditEndedSessions(ctx, result.userId!, [result.sessionId!], 'reuse_detected');
      }
      throw refreshRefused(result?.reason);
    }
    await setSessionCookies(
      ctx,
      result.user,
      result.status === 'rotated'
        ? { id: result.sessionId, expiresAt: result.refreshToken.expiresAt, refreshToken: result.refreshToken.token }
        : { id: result.sessionId, expiresAt: result.sessionExpiresAt, refreshToken: null },
    );
    return { user: result.user };
  }),

  logout: protectedProcedure.mutation(({ ctx }) => {
    if (ctx.sessions.revokeSession(ctx.user.id, ctx.user.sessionId, 'logout', ctx.now())) {
      auditEndedSessions(ctx, ctx.user.id, [ctx.user.sessionId], 'logout');
    }
    for (const cookie of clearedCookies()) ctx.setCookie(cookie);
    return { ok: true as const };
  }),

  changePassword: protectedProcedure
    .input(z.object({ currentPassword: passwordInput, newPassword: newPasswordInput }))
    .mutation(async ({ ctx, input }) => {
      const account = ctx.accounts.getUser(ctx.user.id);
      if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
      // A stolen access token must not become a password oracle: same limits as sign-in.
      await ctx.limits.passwordAttempt(ctx.ip, account.email);
      const event = { type: 'password_changed', userId: ctx.user.id, sessionId: ctx.user.sessionId } as const;
      if (!(await ctx.accounts.verifyCredentials(account.email, input.currentPassword, ctx.now()))) {
        ctx.audit({ ...event, outcome: 'failure', detail: 'wrong current password' });
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'The current password is not correct' });
      }
      await ctx.limits.passwordAccepted(ctx.ip, account.email);
      const passwordHash = await ctx.passwords.hash(input.newPassword);
      ctx.db.update(users).set({ passwordHash, updatedAt: ctx.now() }).where(eq(users.id, ctx.user.id)).run();
      ctx.audit({ ...event, outcome: 'success' });
      const ended = ctx.sessions.revokeUserSessions(ctx.user.id, 'password_changed', ctx.now(), ctx.user.sessionId);
      auditEndedSessions(ctx, ctx.user.id, ended, 'password_changed');
      return { endedSessions: ended.length };
    }),
});

function refreshRefused(reason: 'unknown' | 'expired' | 'revoked' | 'reused' | undefined) {
  const error =
    reason === undefined
      ? new AuthError('missing_token', 'no refresh cookie')
      : reason === 'revoked' || reason === 'reused'
        ? new AuthError('revoked_session', `refresh token ${reason}`)
        : new AuthError('invalid_token', `refresh token ${reason}`, 'The refresh token is invalid or expired');
  return toTRPCError(error);
}
