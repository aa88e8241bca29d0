// Sign-up, sign-in, refresh, sign-out, password change and reset, re-authentication.
// Thin: the rules live in server/auth/; this file wires them to inputs and cookies.
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  completeSignUp,
  reauthenticate,
  reauthenticateWithSecondFactor,
  requestPasswordReset,
  requestSignUp,
  resetPassword,
  setNewPassword,
} from '../auth/account-lifecycle.ts';
import { CONFLICTING_COOKIES, presentedAccessToken, requireUser } from '../auth/authenticate.ts';
import type { PublicUser } from '../auth/accounts.ts';
import { REFRESH_COOKIE, SECOND_FACTOR_COOKIE, secondFactorCookie } from '../auth/cookies.ts';
import { authenticationResponseInput } from '../auth/second-factor/passkeys.ts';
import {
  PASSKEY_REFUSED,
  requireSecondFactor,
  secondFactorInput,
  secondFactorMethods,
} from '../auth/second-factor/prove.ts';
import { CHALLENGE_TTL_SECONDS } from '../auth/second-factor/sign-in-challenge.ts';
import type { Context } from '../context.ts';
import { AuthError, toTRPCError } from '../auth/errors.ts';
import {
  challengeTokenInput,
  emailInput,
  linkTokenInput,
  newPasswordInput,
  passwordInput,
  refreshTokenInput,
} from '../auth/inputs.ts';
import { CredentialsChangedError, MAX_GRACE_ANSWERS } from '../auth/sessions.ts';
import { auditEndedSessions, clearSessionCookies, deliverSessionTokens, startSession } from '../auth/sign-in.ts';
import { NATIVE_HEADER, NATIVE_HEADER_VALUE } from '../auth/transport.ts';
import { protectedProcedure, publicProcedure, router } from '../trpc.ts';

const INVALID_CREDENTIALS = 'Invalid e-mail or password';

export const authRouter = router({
  /**
   * Who is signed in, or null: what an app asks when it loads, answered without a 401 when
   * nobody is (no access token at all). A token that is there but expired, revoked or bad
   * is refused exactly as by user.me, so the client refreshes on `expired_token`.
   */
  session: publicProcedure.query(async ({ ctx }) => {
    if (!presentedAccessToken(ctx) && !ctx.hasConflictingAuthCookies) return null;
    const user = await requireUser(ctx).catch((error: unknown) => {
      if (!(error instanceof AuthError)) throw error;
      ctx.logger.debug('access token refused', { code: error.code, reason: error.reason, ip: ctx.ip });
      throw toTRPCError(error);
    });
    return (await ctx.accounts.getUser(user.id)) ?? null;
  }),

  /** Always the same answer: a link to a new address, a notice to one that has an account. */
  register: publicProcedure.input(z.object({ email: emailInput })).mutation(async ({ ctx, input }) => {
    await requestSignUp(ctx, input.email);
    return { ok: true as const };
  }),

  /** The sign-up link's token and a password: a verified account, signed in. */
  completeRegistration: publicProcedure
    .input(z.object({ token: linkTokenInput, password: newPasswordInput }))
    .mutation(async ({ ctx, input }) => completeSignUp(ctx, input.token, input.password)),

  /** Always the same answer: a reset link goes out only when the address has an account. */
  requestPasswordReset: publicProcedure.input(z.object({ email: emailInput })).mutation(async ({ ctx, input }) => {
    await requestPasswordReset(ctx, input.email);
    return { ok: true as const };
  }),

  /**
   * The reset link's token and a new password: every session ends, a fresh one starts. An
   * account with a second factor needs `secondFactor` too (401 `second_factor_required`).
   */
  resetPassword: publicProcedure
    .input(
      z.object({ token: linkTokenInput, newPassword: newPasswordInput, secondFactor: secondFactorInput.optional() }),
    )
    .mutation(async ({ ctx, input }) => resetPassword(ctx, input.token, input.newPassword, input.secondFactor)),

  /**
   * Proves the password, or a second factor, again, so recent-auth actions are allowed for
   * REAUTH_WINDOW.
   */
  reauthenticate: protectedProcedure
    .input(z.union([z.strictObject({ password: passwordInput }), z.strictObject({ secondFactor: secondFactorInput })]))
    .mutation(async ({ ctx, input }) => {
      if ('password' in input) await reauthenticate(ctx, input.password);
      else await reauthenticateWithSecondFactor(ctx, input.secondFactor);
      return { ok: true as const };
    }),

  login: publicProcedure
    .input(z.object({ email: emailInput, password: passwordInput }))
    .mutation(async ({ ctx, input }) => {
      // Guesses are limited; a right password is not refused by the per-account ceiling (decision 008).
      const verified = await ctx.limits.signInAttempt(ctx.ip, input.email, () =>
        ctx.accounts.verifyCredentials(input.email, input.password, ctx.now()),
      );
      // Unknown e-mail and wrong password: the same error, after the same work.
      if (!verified) {
        await ctx.audit({ type: 'login', outcome: 'failure', detail: `email=${input.email}` });
        throw new TRPCError({ code: 'UNAUTHORIZED', message: INVALID_CREDENTIALS });
      }
      const { user, passwordHash } = verified;
      if (await ctx.secondFactors.hasSecondFactor(user.id)) {
        return { user: null, tokens: undefined, secondFactor: await startSecondFactorStep(ctx, user, passwordHash) };
      }
      const { sessionId, tokens } = await startSessionUnlessPasswordChanged(ctx, user, passwordHash);
      await ctx.audit({ type: 'login', outcome: 'success', userId: user.id, sessionId });
      return { user, tokens, secondFactor: null };
    }),

  /**
   * Options for the browser's `startAuthentication`, for any passkey ceremony: a sign-in
   * without the password, the second step of one, a step-up, a password reset. Single use,
   * valid 5 minutes.
   */
  passkeyOptions: publicProcedure.mutation(async ({ ctx }) => {
    await ctx.limits.passkeyPerIp.consume(ctx.ip);
    return ctx.passkeys.authenticationOptions(ctx.now());
  }),

  /**
   * Signs in with a passkey alone: it is a factor the user has, unlocked by one they are
   * (user verification), so it needs no password and no second step.
   */
  signInWithPasskey: publicProcedure
    .input(z.object({ passkey: authenticationResponseInput }))
    .mutation(async ({ ctx, input }) => {
      // Each answer costs a point too: a failure is audited, and audit rows are not free.
      await ctx.limits.passkeyPerIp.consume(ctx.ip);
      const result = await ctx.passkeys.authenticate(input.passkey, ctx.now());
      const user = result.ok ? await ctx.accounts.getUser(result.userId) : undefined;
      if (!result.ok || !user) {
        const reason = result.ok ? 'unknown_passkey' : result.reason;
        await ctx.audit({ type: 'login', outcome: 'failure', userId: result.userId, detail: `passkey: ${reason}` });
        throw new TRPCError({ code: 'UNAUTHORIZED', message: PASSKEY_REFUSED[reason] });
      }
      const { sessionId, tokens } = await startSession(ctx, user).catch(async (error: unknown) => {
        // An administrator disabled the account: no passkey signs it in.
        if (!(error instanceof CredentialsChangedError)) throw error;
        await ctx.audit({ type: 'login', outcome: 'failure', userId: user.id, detail: 'passkey: account disabled' });
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'This account is disabled' });
      });
      await ctx.audit({ type: 'login', outcome: 'success', userId: user.id, sessionId, detail: 'with passkey' });
      return { user, tokens };
    }),

  /**
   * The second step of a sign-in that answered `secondFactor`: a code from the authenticator
   * app, a recovery code or a passkey, with the step's cookie (a native client sends `challenge`).
   */
  completeSignIn: publicProcedure
    .input(z.object({ secondFactor: secondFactorInput, challenge: challengeTokenInput.optional() }))
    .mutation(async ({ ctx, input }) => {
      if (ctx.transport === 'cookie' && input.challenge !== undefined) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: `A challenge in the body needs the native transport (${NATIVE_HEADER}: ${NATIVE_HEADER_VALUE}); browsers send the cookie`,
        });
      }
      const token = ctx.transport === 'bearer' ? input.challenge : ctx.cookies[SECOND_FACTOR_COOKIE];
      const challenge = await ctx.signInChallenges.find(token, ctx.now());
      const user = challenge && (await ctx.accounts.getUser(challenge.userId));
      if (!challenge || !user) throw toTRPCError(new AuthError('second_factor_expired'));
      await requireSecondFactor(ctx, user, input.secondFactor, 'sign_in', 'UNAUTHORIZED');
      // Two requests with one challenge: only one signs in.
      if (!(await ctx.signInChallenges.consume(challenge.id)))
        throw toTRPCError(new AuthError('second_factor_expired'));
      if (ctx.transport === 'cookie') ctx.setCookie(secondFactorCookie('', 0));
      const { sessionId, tokens } = await startSessionUnlessPasswordChanged(ctx, user, challenge.passwordHash);
      const method =
        'code' in input.secondFactor ? 'totp' : 'passkey' in input.secondFactor ? 'passkey' : 'recovery_code';
      await ctx.audit({ type: 'login', outcome: 'success', userId: user.id, sessionId, detail: `with ${method}` });
      return { user, tokens };
    }),

  /** Browsers send the refresh cookie; a native client sends `{ refreshToken }` (transport.ts). */
  refresh: publicProcedure
    .input(z.object({ refreshToken: refreshTokenInput.optional() }).optional())
    .mutation(async ({ ctx, input }) => {
      await ctx.limits.refreshPerIp.consume(ctx.ip);
      if (ctx.hasConflictingAuthCookies) {
        clearSessionCookies(ctx);
        throw toTRPCError(new AuthError('invalid_token', 'an auth cookie came twice', CONFLICTING_COOKIES));
      }
      if (ctx.transport === 'cookie' && input?.refreshToken !== undefined) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: `A refresh token in the body needs the native transport (${NATIVE_HEADER}: ${NATIVE_HEADER_VALUE}); browsers send the cookie`,
        });
      }
      const token = ctx.transport === 'bearer' ? input?.refreshToken : ctx.cookies[REFRESH_COOKIE];
      // The access token (a host-only cookie no other site can plant, or the bearer) names the client's session.
      const clientSession = await ctx.tokens.readSession(presentedAccessToken(ctx));
      const result = token ? await ctx.sessions.rotateRefreshToken(token, ctx.now(), clientSession?.sessionId) : null;
      if (!result || result.status === 'rejected') {
        clearSessionCookies(ctx);
        if (result?.reason === 'reused') {
          // A rotated refresh token came back: stolen, or replayed. The whole session is gone.
          ctx.logger.warn('security: refresh token reuse detected; session revoked', { ip: ctx.ip });
          await ctx.audit({
            type: 'refresh_reuse_detected',
            outcome: 'failure',
            userId: result.userId,
            sessionId: result.sessionId,
          });
          await auditEndedSessions(ctx, result.userId!, [result.sessionId!], 'reuse_detected');
        }
        throw refreshRefused(result?.reason);
      }
      if (result.status === 'grace') {
        await ctx.audit({
          type: 'refresh_grace_used',
          outcome: 'success',
          userId: result.user.id,
          sessionId: result.sessionId,
          detail: `${result.graceUses} of ${MAX_GRACE_ANSWERS}${result.refreshToken ? '' : ', access token only'}`,
        });
      }
      const tokens = await deliverSessionTokens(ctx, result.user, {
        id: result.sessionId,
        idleExpiresAt: result.idleExpiresAt,
        expiresAt: result.expiresAt,
        refreshToken: result.refreshToken?.token ?? null,
      });
      return { user: result.user, tokens };
    }),

  logout: protectedProcedure.mutation(async ({ ctx }) => {
    if (await ctx.sessions.revokeSession(ctx.user.id, ctx.user.sessionId, 'logout', ctx.now())) {
      await auditEndedSessions(ctx, ctx.user.id, [ctx.user.sessionId], 'logout');
    }
    clearSessionCookies(ctx);
    return { ok: true as const };
  }),

  /**
   * A token for one service declared in JWT_SERVICES (RFC 8693 token exchange): the same
   * user, that service's audience only, expiring no later than the caller's own token.
   * Native clients only; a browser app calls services through procedures (reports.ts),
   * so no token ever reaches its scripts.
   */
  exchangeToken: protectedProcedure
    .input(z.object({ service: z.string().min(1).max(64) }))
    .mutation(async ({ ctx, input }) => {
      if (ctx.transport !== 'bearer') {
        throw new TRPCError({
          code: 'FORBIDDEN',
          message: `Service tokens go only to native clients (${NATIVE_HEADER}: ${NATIVE_HEADER_VALUE}); a browser app calls the service through a procedure`,
        });
      }
      await ctx.limits.exchangePerSession.consume(ctx.user.sessionId);
      const declared = Object.keys(ctx.config.jwt.services);
      if (!Object.hasOwn(ctx.config.jwt.services, input.service)) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: `Unknown service "${input.service}": ${declared.length ? `declared are ${declared.join(', ')}` : 'none is declared (JWT_SERVICES)'}`,
        });
      }
      const { token, audience, expiresAt } = await ctx.tokens.issueForService(
        { userId: ctx.user.id, role: ctx.user.role, sessionId: ctx.user.sessionId },
        input.service,
        ctx.user.tokenExpiresAt,
        ctx.now(),
      );
      await ctx.audit({
        type: 'token_exchanged',
        outcome: 'success',
        userId: ctx.user.id,
        sessionId: ctx.user.sessionId,
        detail: input.service,
      });
      return { tokenType: 'Bearer' as const, accessToken: token, audience, expiresAt: expiresAt.toISOString() };
    }),

  changePassword: protectedProcedure
    .input(z.object({ currentPassword: passwordInput, newPassword: newPasswordInput }))
    .mutation(async ({ ctx, input }) => {
      const account = await ctx.accounts.getUser(ctx.user.id);
      if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
      // A stolen access token must not become a password oracle: wrong guesses are limited
      // per session. Guesses at sign-in on this account do not count here (decision 008).
      const verified = await ctx.limits.currentPasswordAttempt(ctx.user.sessionId, () =>
        ctx.accounts.verifyCredentials(account.email, input.currentPassword, ctx.now()),
      );
      const event = { type: 'password_changed', userId: ctx.user.id, sessionId: ctx.user.sessionId } as const;
      if (!verified) {
        await ctx.audit({ ...event, outcome: 'failure', detail: 'wrong current password' });
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'The current password is not correct' });
      }
      const ended = await setNewPassword(ctx, await ctx.passwords.hash(input.newPassword));
      await ctx.audit({ ...event, outcome: 'success' });
      return { endedSessions: ended.length };
    }),
});

/** A session for `user`, unless their password changed since `passwordHash` was checked. */
async function startSessionUnlessPasswordChanged(ctx: Context, user: PublicUser, passwordHash: string) {
  return startSession(ctx, user, passwordHash).catch((error: unknown) => {
    // The password changed while this sign-in checked the old one: it must not survive that.
    if (!(error instanceof CredentialsChangedError)) throw error;
    throw new TRPCError({ code: 'UNAUTHORIZED', message: INVALID_CREDENTIALS });
  });
}

/** The right password of an account with a second factor: no session yet, a challenge for the next step. */
async function startSecondFactorStep(ctx: Context, user: PublicUser, passwordHash: string) {
  const { token, expiresAt } = await ctx.signInChallenges.issue(user.id, passwordHash, ctx.now());
  if (ctx.transport === 'cookie') ctx.setCookie(secondFactorCookie(token, CHALLENGE_TTL_SECONDS));
  // Not a `login` yet: that is audited when the second step completes.
  await ctx.audit({ type: 'second_factor_required', outcome: 'success', userId: user.id });
  return {
    methods: await secondFactorMethods(ctx, user.id),
    expiresAt: expiresAt.toISOString(),
    ...(ctx.transport === 'bearer' && { challenge: token }),
  };
}

function refreshRefused(reason: 'unknown' | 'expired' | 'revoked' | 'reused' | 'other_session' | undefined) {
  const error =
    reason === undefined
      ? new AuthError('missing_token', 'no refresh cookie')
      : reason === 'revoked' || reason === 'reused'
        ? new AuthError('revoked_session', `refresh token ${reason}`)
        : reason === 'other_session'
          ? new AuthError('invalid_token', 'refresh token of another session', CONFLICTING_COOKIES)
          : new AuthError('invalid_token', `refresh token ${reason}`, 'The refresh token is invalid or expired');
  return toTRPCError(error);
}
