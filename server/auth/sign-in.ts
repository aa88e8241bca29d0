// Puts a session's tokens into the response's cookies, after a sign-in or a refresh.
import type { Context } from '../context.ts';
import { accessCookie, refreshCookie } from './cookies.ts';
import type { PublicUser } from './accounts.ts';
import type { IssuedRefreshToken } from './sessions.ts';

/** Starts a new session (refresh-token family) for `user` and sets both cookies. */
export async function startSession(ctx: Context, user: PublicUser) {
  const { sessionId, refreshToken } = ctx.sessions.createSession(user.id, ctx.userAgent, ctx.now());
  await setSessionCookies(ctx, user, sessionId, refreshToken);
}

/** A fresh access token always; a refresh cookie only when a new refresh token was issued. */
export async function setSessionCookies(
  ctx: Context,
  user: PublicUser,
  sessionId: string,
  refreshToken: IssuedRefreshToken | null,
) {
  const now = ctx.now();
  const accessToken = await ctx.tokens.issue({ userId: user.id, role: user.role, sessionId }, now);
  ctx.setCookie(accessCookie(accessToken, ctx.config.jwt.accessTokenTtl));
  if (refreshToken) {
    const maxAge = Math.floor((refreshToken.expiresAt.getTime() - now.getTime()) / 1000);
    ctx.setCookie(refreshCookie(refreshToken.token, maxAge));
  }
}
