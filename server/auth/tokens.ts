// Access tokens: short-lived JWTs (RFC 9068 profile) carrying only what every request
// needs. Edit it to add a claim (keep it small: no e-mail, no profile data).
import { SignJWT, compactVerify, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import { createId } from '../../db/ids.ts';
import type { Config } from '../env.ts';
import { AuthError } from './errors.ts';
import { ROLES, type Role } from './roles.ts';
import { type SigningKeys, loadSigningKeys } from './signing-keys.ts';

/** Longer tokens are refused before any parsing; ours are ~400 bytes. */
export const MAX_TOKEN_BYTES = 4096;
export const ACCESS_TOKEN_TYPE = 'at+jwt';
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
export type SessionCheck = (sessionId: string, userId: string, now: Date) => Promise<boolean>;

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
  // Imported once; every call awaits the same promise (a failure fails every call, loudly).
  const keys: Promise<SigningKeys> = loadSigningKeys({
    alg: jwt.alg,
    secret: jwt.secret,
    previousSecret: jwt.previousSecret,
    privateKey: jwt.privateKey,
    previousPublicKey: jwt.previousPublicKey,
    previousUntil: jwt.alg === 'HS256' ? jwt.previousSecretUntil : jwt.previousPublicKeyUntil,
    accessTokenTtl: jwt.accessTokenTtl,
  });
  /** Token → claims and the second it stops being valid: exp, or iat + TTL if sooner. */
  const verified = new Map<string, { claims: AccessClaims; validUntil: number }>();

  async function sign(
    subject: Omit<AccessTokenSubject, 'sessionExpiresAt'>,
    audience: string,
    iat: number,
    exp: number,
  ) {
    const { alg, signing } = await keys;
    return new SignJWT({ sid: subject.sessionId, role: subject.role })
      .setProtectedHeader({ alg, typ: ACCESS_TOKEN_TYPE, kid: signing.kid })
      .setIssuer(jwt.issuer)
      .setAudience(audience)
      .setSubject(subject.userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(createId())
      .sign(signing.key);
  }

  /** An access token for this API: ACCESS_TOKEN_TTL, never past the session's end. */
  function issue(subject: AccessTokenSubject, now: Date): Promise<string> {
    const iat = epochSeconds(now);
    return sign(subject, jwt.audience, iat, Math.min(iat + jwt.accessTokenTtl, epochSeconds(subject.sessionExpiresAt)));
  }

  /**
   * A token for one declared service (RFC 8693 token exchange, done in-process): the same
   * user and claims, `aud` exactly that service's, and no later `exp` than `notAfter` (the
   * caller's own access token, itself capped at its session's end), so exchanging never
   * extends a token's life.
   *
   * @example
   * const { token } = await tokens.issueForService({ userId, role, sessionId }, 'reports', claims.exp, now)
   */
  async function issueForService(
    subject: Omit<AccessTokenSubject, 'sessionExpiresAt'>,
    service: string,
    notAfter: number,
    now: Date,
  ) {
    const audience = Object.hasOwn(jwt.services, service) ? jwt.services[service] : undefined;
    if (!audience) throw new Error(`undeclared service ${service}`);
    const iat = epochSeconds(now);
    const exp = Math.min(iat + jwt.accessTokenTtl, notAfter);
    return { token: await sign(subject, audience, iat, exp), audience, expiresAt: new Date(exp * 1000) };
  }

  /** The public keys for /.well-known/jwks.json (none with HS256). */
  async function publicJwks(now: Date) {
    return (await keys).publicJwks(now);
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
    const { alg, verifying } = await keys;
    try {
      const { payload, protectedHeader } = await jwtVerify(
        token,
        (header) => {
          const entry = verifying.get(header.kid ?? '');
          if (!entry) throw new AuthError('invalid_token', `unknown kid ${JSON.stringify(header.kid)}`);
          return entry.key;
        },
        {
          // Pinned to the configured algorithm: the header's `alg` never chooses how to verify.
          algorithms: [alg],
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
      if (claims.data.iat > verifying.get(protectedHeader.kid!)!.signedBefore) {
        throw new AuthError('invalid_token', 'previous key used after rotation');
      }
      if (!(await isLiveSession(claims.data.sid, claims.data.sub, now))) {
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
    const { alg, verifying } = await keys;
    try {
      const { payload } = await compactVerify(token, (header) => verifying.get(header.kid ?? '')!.key, {
        algorithms: [alg],
      });
      const json = JSON.parse(new TextDecoder().decode(payload)) as { aud?: unknown };
      // A token for another service names a session too, but is not this browser's.
      const isOurs = json.aud === jwt.audience || (Array.isArray(json.aud) && json.aud.includes(jwt.audience));
      const claims = claimsSchema.safeParse(json);
      return isOurs && claims.success ? { userId: claims.data.sub, sessionId: claims.data.sid } : null;
    } catch {
      return null;
    }
  }

  return { issue, issueForService, verify, readSession, publicJwks };
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
