// A session's life at the request level: its tokens into the response's cookies (or,
// for a native client, its body) after a sign-in or a refresh, and its end into the audit log.
import type { Context } from '../context.ts';
import { presentedAccessToken } from './authenticate.ts';
import { accessCookie, clearedCookies, refreshCookie } from './cookies.ts';
import type { PublicUser } from './accounts.ts';
import type { RevocationReason } from './sessions.ts';

/** What a native client receives instead of cookies (transport.ts); it keeps both in its keystore. */
export interface NativeTokens {
  tokenType: 'Bearer';
  accessToken: string;
  /** Absent when a refresh inside the reuse grace re-sends no refresh token (sessions.ts). */
  refreshToken?: string;
  /** When the session must be refreshed by at the latest (idle timeout), ISO 8601. */
  refreshTokenExpiresAt: string;
}

/**
 * Starts a new session (refresh-token family) for `user` and delivers its tokens: cookies,
 * or `tokens` for a native client. `verifiedPasswordHash`: the hash a sign-in just checked;
 * the session is refused (CredentialsChangedError) if the password changed in the meantime.
 */
export async function startSession(
  ctx: Context,
  user: PublicUser,
  verifiedPasswordHash?: string,
): Promise<{ sessionId: string; tokens: NativeTokens | undefined }> {
  const session = await ctx.sessions.createSession(user.id, ctx.userAgent, ctx.now(), verifiedPasswordHash);
  // The client's token is about to name the new session: the one it named ends, rather
  // than live on, unreachable, until it expires. Only the same user's: an old token of
  // someone else's (even expired) must not be a way to end their session.
  const previous = await ctx.tokens.readSession(presentedAccessToken(ctx));
  if (
    previous?.userId === user.id &&
    (await ctx.sessions.revokeSession(previous.userId, previous.sessionId, 'signed_in_again', ctx.now()))
  ) {
    await auditEndedSessions(ctx, previous.userId, [previous.sessionId], 'signed_in_again');
  }
  const tokens = await deliverSessionTokens(ctx, user, {
    id: session.sessionId,
    idleExpiresAt: session.refreshToken.expiresAt,
    expiresAt: session.expiresAt,
    refreshToken: session.refreshToken.token,
  });
  return { sessionId: session.sessionId, tokens };
}

/**
 * A fresh access token always; a refresh token only when one is given. A browser gets them
 * as cookies, which live as long as the session may still be refreshed (`idleExpiresAt`):
 * the JWT's own `exp` limits the access token, and a browser must keep sending the
 * expired one so the server can answer `expired_token` (refresh) rather than
 * `missing_token` (signed out), and so sign-out can still name its session. A native
 * client gets them returned, for the procedure's response body.
 */
export async function deliverSessionTokens(
  ctx: Context,
  user: PublicUser,
  session: { id: string; idleExpiresAt: Date; expiresAt: Date; refreshToken: string | null },
): Promise<NativeTokens | undefined> {
  const now = ctx.now();
  const subject = { userId: user.id, role: user.role, sessionId: session.id, sessionExpiresAt: session.expiresAt };
  const accessToken = await ctx.tokens.issue(subject, now);
  if (ctx.transport === 'bearer') {
    return {
      tokenType: 'Bearer',
      accessToken,
      ...(session.refreshToken && { refreshToken: session.refreshToken }),
      refreshTokenExpiresAt: session.idleExpiresAt.toISOString(),
    };
  }
  const maxAge = Math.max(0, Math.floor((session.idleExpiresAt.getTime() - now.getTime()) / 1000));
  ctx.setCookie(accessCookie(accessToken, maxAge));
  if (session.refreshToken) ctx.setCookie(refreshCookie(session.refreshToken, maxAge));
  return undefined;
}

/** Audits sessions that were just ended (the store has already revoked them). */
export async function auditEndedSessions(
  ctx: Context,
  userId: string,
  sessionIds: string[],
  reason: RevocationReason,
  by?: string,
) {
  const detail = by ? `${reason} ${by}` : reason;
  for (const sessionId of sessionIds) {
    await ctx.audit({ type: 'session_revoked', outcome: 'success', userId, sessionId, detail });
  }
}

/** Expires both cookies (and a refresh cookie planted for a parent domain). Native clients have none. */
export function clearSessionCookies(ctx: Context) {
  if (ctx.transport === 'bearer') return;
  for (const cookie of clearedCookies(new URL(ctx.config.appOrigin).hostname)) ctx.setCookie(cookie);
}
