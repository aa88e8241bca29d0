// A session's life at the request level: its tokens into the response's cookies after
// a sign-in or a refresh, and its end into the audit log.
import type { Context } from '../context.ts';
import { ACCESS_COOKIE, accessCookie, clearedCookies, refreshCookie } from './cookies.ts';
import type { PublicUser } from './accounts.ts';
import type { RevocationReason } from './sessions.ts';

/**
 * Starts a new session (refresh-token family) for `user`, sets both cookies, returns its id.
 * `verifiedPasswordHash`: the hash a sign-in just checked; the session is refused
 * (CredentialsChangedError) if the password changed in the meantime.
 */
export async function startSession(ctx: Context, user: PublicUser, verifiedPasswordHash?: string): Promise<string> {
  const session = ctx.sessions.createSession(user.id, ctx.userAgent, ctx.now(), verifiedPasswordHash);
  // The browser's cookies are about to name the new session: the one they named ends,
  // rather than live on, unreachable, until it expires.
  const previous = await ctx.tokens.readSession(ctx.cookies[ACCESS_COOKIE]);
  if (previous && ctx.sessions.revokeSession(previous.userId, previous.sessionId, 'signed_in_again', ctx.now())) {
    auditEndedSessions(ctx, previous.userId, [previous.sessionId], 'signed_in_again');
  }
  await setSessionCookies(ctx, user, {
    id: session.sessionId,
    idleExpiresAt: session.refreshToken.expiresAt,
    expiresAt: session.expiresAt,
    refreshToken: session.refreshToken.token,
  });
  return session.sessionId;
}

/**
 * A fresh access token always; a refresh cookie only when a refresh token is sent.
 * Both cookies live as long as the session may still be refreshed (`idleExpiresAt`):
 * the JWT's own `exp` limits the access token, and a browser must keep sending the
 * expired one so the server can answer `expired_token` (refresh) rather than
 * `missing_token` (signed out), and so sign-out can still name its session.
 */
export async function setSessionCookies(
  ctx: Context,
  user: PublicUser,
  session: { id: string; idleExpiresAt: Date; expiresAt: Date; refreshToken: string | null },
) {
  const now = ctx.now();
  const maxAge = Math.max(0, Math.floor((session.idleExpiresAt.getTime() - now.getTime()) / 1000));
  const subject = { userId: user.id, role: user.role, sessionId: session.id, sessionExpiresAt: session.expiresAt };
  const accessToken = await ctx.tokens.issue(subject, now);
  ctx.setCookie(accessCookie(accessToken, maxAge));
  if (session.refreshToken) ctx.setCookie(refreshCookie(session.refreshToken, maxAge));
}

/** Audits sessions that were just ended (the store has already revoked them). */
export function auditEndedSessions(
  ctx: Context,
  userId: string,
  sessionIds: string[],
  reason: RevocationReason,
  by?: string,
) {
  const detail = by ? `${reason} ${by}` : reason;
  for (const sessionId of sessionIds) {
    ctx.audit({ type: 'session_revoked', outcome: 'success', userId, sessionId, detail });
  }
}

/** Expires both cookies (and a refresh cookie planted for a parent domain). */
export function clearSessionCookies(ctx: Context) {
  for (const cookie of clearedCookies(new URL(ctx.config.appOrigin).hostname)) ctx.setCookie(cookie);
}
