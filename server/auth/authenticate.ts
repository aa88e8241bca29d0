// The check every protected request runs: signature and claims (cached), then the
// in-memory revocations. No database query on this path.
import type { Context } from '../context.ts';
import { ACCESS_COOKIE } from './cookies.ts';
import { AuthError } from './errors.ts';
import { clearSessionCookies } from './sign-in.ts';
import type { Role } from './roles.ts';

export const CONFLICTING_COOKIES = 'Conflicting session cookies were sent; sign in again';

export interface AuthUser {
  id: string;
  role: Role;
  sessionId: string;
  /** The access token's `exp` (epoch seconds): tokens exchanged from it expire no later. */
  tokenExpiresAt: number;
}

/** The access token this request presents: its cookie, or its `Authorization: Bearer`. */
export const presentedAccessToken = (ctx: Context) =>
  ctx.transport === 'bearer' ? ctx.bearerToken : ctx.cookies[ACCESS_COOKIE];

/** Returns the signed-in user or throws an AuthError saying why not. */
export async function requireUser(ctx: Context): Promise<AuthUser> {
  if (ctx.hasConflictingAuthCookies) {
    clearSessionCookies(ctx);
    throw new AuthError('invalid_token', 'an auth cookie came twice', CONFLICTING_COOKIES);
  }
  const token = presentedAccessToken(ctx);
  if (!token) throw new AuthError('missing_token');
  const claims = await ctx.tokens.verify(token, ctx.now());
  if (ctx.revocations.isSessionRevoked(claims.sid)) {
    throw new AuthError('revoked_session', `session ${claims.sid} revoked`);
  }
  if (ctx.revocations.isRoleStale(claims.sub, claims.role)) {
    throw new AuthError(
      'expired_token',
      `role ${claims.role} changed`,
      'The access token expired early because your role changed',
    );
  }
  return { id: claims.sub, role: claims.role, sessionId: claims.sid, tokenExpiresAt: claims.exp };
}
