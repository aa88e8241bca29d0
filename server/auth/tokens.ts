// Access tokens: short-lived JWTs (RFC 9068 profile) carrying only what every request
// needs. Edit it to add a claim (keep it small: no e-mail, no profile data).
import { createHash } from 'node:crypto';
import { SignJWT, compactVerify, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import { createId } from '../../db/ids.ts';
import type { Config } from '../env.ts';
import { AuthError } from './errors.ts';
import { ROLES, type Role } from './roles.ts';

/** Longer tokens are refused before any parsing; ours are ~400 bytes. */
export const MAX_TOKEN_BYTES = 4096;
export const ACCESS_TOKEN_TYPE = 'at+jwt';
const ALGORITHM = 'HS256';
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;
/** Verified tokens kept in memory, so a repeat request costs no HMAC (see issueAccessToken). */
const CACHE_SIZE = 10_000;

const claimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  jti: z.string().min(1),
  role: z.enum(ROLES),
  iat: z.number(),
  exp: z.number(),
});
export type AccessClaims = z.infer<typeof claimsSchema>;

export interface AccessTokenSubject {
  userId: string;
  role: Role;
  sessionId: string;
  /** The session's absolute end: no access token outlives its session. */
  sessionExpiresAt: Date;
}

/**
 * Answers whether `sessionId` is a live session of `userId`. Asked once per token, on
 * its first use (then cached), so a token whose `sub` owns no live session is refused
 * even when its signature is good: a forgery with a leaked key names no real session.
 */
export type SessionCheck = (sessionId: string, userId: string, now: Date) => boolean;

/** A public, stable name for a key: it lets verification pick the key without trying each. */
const keyIdOf = (secret: string) => createHash('sha256').update(`kid:${secret}`).digest('base64url').slice(0, 16);

const importKey = (secret: string) =>
  crypto.subtle.importKey('raw', Buffer.from(secret, 'base64url'), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Issues and verifies access tokens with the configured keys.
 *
 * @example
 * const tokens = createAccessTokens(config.jwt, sessions.isLive)
 * const jwt = await tokens.issue({ userId, role: 'user', sessionId, sessionExpiresAt }, new Date())
 * const claims = await tokens.verify(jwt, new Date()) // throws AuthError
 */
export function createAccessTokens(jwt: Config['jwt'], isLiveSession: SessionCheck) {
  const signingKeyId = keyIdOf(jwt.secret);
  const previousKeyId = jwt.previousSecret ? keyIdOf(jwt.previousSecret) : null;
  // The previous key verifies only tokens issued before the rotation (`setup --rotate`
  // recorded UNTIL = rotation + TTL), so all of them are dead by UNTIL, whatever the
  // number of restarts. A token it "issued" later was minted by someone holding it.
  const previousKeySignedBefore = jwt.previousSecretUntil
    ? epochSeconds(jwt.previousSecretUntil) - jwt.accessTokenTtl
    : Number.NEGATIVE_INFINITY;
  const keys = (async () => {
    const byId = new Map([[signingKeyId, await importKey(jwt.secret)]]);
    // The previous key verifies the tokens it signed until they expire; it never signs.
    if (jwt.previousSecret && previousKeyId) byId.set(previousKeyId, await importKey(jwt.previousSecret));
    return byId;
  })();
  /** Token → claims and the second it stops being valid: exp, or iat + TTL if sooner. */
  const verified = new Map<string, { claims: AccessClaims; validUntil: number }>();

  async function issue(subject: AccessTokenSubject, now: Date): Promise<string> {
    const iat = epochSeconds(now);
    const exp = Math.min(iat + jwt.accessTokenTtl, epochSeconds(subject.sessionExpiresAt));
    const key = (await keys).get(signingKeyId)!;
    return new SignJWT({ sid: subject.sessionId, role: subject.role })
      .setProtectedHeader({ alg: ALGORITHM, typ: ACCESS_TOKEN_TYPE, kid: signingKeyId })
      .setIssuer(jwt.issuer)
      .setAudience(jwt.audience)
      .setSubject(subject.userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(createId())
      .sign(key);
  }

  /** Returns the token's claims, or throws an AuthError: `expired_token` or `invalid_token`. */
  async function verify(token: string, now: Date): Promise<AccessClaims> {
    // A cached token passed every check below; only time can have changed since.
    const cached = verified.get(token);
    if (cached) {
      if (cached.validUntil <= epochSeconds(now)) throw new AuthError('expired_token', 'ERR_JWT_EXPIRED (cached)');
      return cached.claims;
    }
    if (token.length > MAX_TOKEN_BYTES) throw new AuthError('invalid_token', 'token over 4096 bytes');
    // Compact JWS is three unpadded base64url segments (RFC 7515 §2). jose's decoder also
    // takes `=` padding, which would give one token many spellings.
    if (!COMPACT_JWS.test(token)) throw new AuthError('invalid_token', 'not three unpadded base64url segments');
    const claims = await verifySignatureAndClaims(token, now);
    if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value!);
    // maxTokenAge applies on a cache hit too: a token never outlives ACCESS_TOKEN_TTL.
    verified.set(token, { claims, validUntil: Math.min(claims.exp, claims.iat + jwt.accessTokenTtl) });
    return claims;
  }

  async function verifySignatureAndClaims(token: string, now: Date): Promise<AccessClaims> {
    const byId = await keys;
    try {
      const { payload, protectedHeader } = await jwtVerify(
        token,
        (header) => {
          const key = byId.get(header.kid ?? '');
          if (!key) throw new AuthError('invalid_token', `unknown kid ${JSON.stringify(header.kid)}`);
          return key;
        },
        {
          algorithms: [ALGORITHM],
          issuer: jwt.issuer,
          audience: jwt.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['exp', 'iat', 'sub', 'jti', 'sid', 'role'],
          clockTolerance: 0,
          // Also refuses an `iat` in the future (a token minted ahead of time).
          maxTokenAge: jwt.accessTokenTtl,
          currentDate: now,
        },
      );
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new AuthError('invalid_token', `malformed claims: ${claims.error.issues[0]?.path.join('.')}`);
      }
      if (protectedHeader.kid === previousKeyId && claims.data.iat > previousKeySignedBefore) {
        throw new AuthError('invalid_token', 'previous key used after rotation');
      }
      if (!isLiveSession(claims.data.sid, claims.data.sub, now)) {
        throw new AuthError('revoked_session', 'no live session for sid and sub');
      }
      return claims.data;
    } catch (error) {
      throw toAuthError(error);
    }
  }

  /**
   * The session a token of ours names, expired or not; null for anything else. Only for
   * ending the session a browser leaves behind when it signs in again.
   */
  async function readSession(token: string | undefined): Promise<{ userId: string; sessionId: string } | null> {
    if (!token || token.length > MAX_TOKEN_BYTES || !COMPACT_JWS.test(token)) return null;
    const byId = await keys;
    try {
      const { payload } = await compactVerify(token, (header) => byId.get(header.kid ?? '')!, {
        algorithms: [ALGORITHM],
      });
      const claims = claimsSchema.safeParse(JSON.parse(new TextDecoder().decode(payload)));
      return claims.success ? { userId: claims.data.sub, sessionId: claims.data.sid } : null;
    } catch {
      return null;
    }
  }

  return { issue, verify, readSession };
}

/** Every verification failure, jose's or anything else's, becomes a 401 reason. */
function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError('expired_token', `${error.code} ${error.claim}`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new AuthError('invalid_token', `${error.code} ${error.claim} (${error.reason})`);
  }
  if (error instanceof errors.JOSEError) return new AuthError('invalid_token', error.code);
  return new AuthError('invalid_token', `unexpected ${(error as Error)?.name ?? typeof error}`);
}
