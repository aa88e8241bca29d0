// A session's life at the request level: its tokens into the response's cookies after
// a sign-in or a refresh, and its end into the audit log.
import type { Context } from '../context.ts';
import { accessCookie, refreshCookie } from './cookies.ts';
import type { PublicUser } from './accounts.ts';
import type { RevocationReason } from './sessions.ts';

/** Starts a new session (refresh-token family) for `user`, sets both cookies, returns its id. */
export async function startSession(ctx: Context, user: PublicUser): Promise<string> {
  const { sessionId, refreshToken } = ctx.sessions.createSession(user.id, ctx.userAgent, ctx.now());
  await setSessionCookies(ctx, user, {
    id: sessionId,
    expiresAt: refreshToken.expiresAt,
    refreshToken: refreshToken.token,
  });
  return sessionId;
}

/**
 * A fresh access token always; a refresh cookie only when a new refresh token was issued.
 * Both cookies live as long as the session may still be refreshed (`sessionExpiresAt`):
 * the JWT's own `exp` limits the access token, and a browser must keep sending the
 * expired one so the server can answer `expired_token` (refresh) rather than
 * `missing_token` (signed out), and so sign-out can still name its session.
 */
export async function setSessionCookies(
  ctx: Context,
  user: PublicUser,
  session: { id: string; expiresAt: Date; refreshToken: string | null },
) {
  const now = ctx.now();
  const maxAge = Math.max(0, Math.floor((session.expiresAt.getTime() - now.getTime()) / 1000));
  const accessToken = await ctx.tokens.issue({ userId: user.id, role: user.role, sessionId: session.id }, now);
  ctx.setCookie(accessCookie(accessToken, maxAge));
  if (session.refreshToken) ctx.setCookie(refreshCookie(session.refreshToken, maxAge));
}

/** Audits sessions that were just ended (the store has already revoked them). */
export function auditEndedSessions(ctx: Context, userId: string, sessionIds: string[], reason: RevocationReason) {
  for (const sessionId of sessionIds) {
    ctx.audit({ type: 'session_revoked', outcome: 'success', userId, sessionId, detail: reason });
  }
}
