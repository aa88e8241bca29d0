// A second service that trusts the API's tokens without holding any secret: it fetches
// the API's public keys (JWKS) and accepts only tokens minted for its own audience.
// Plain node:http and jose; copy this folder out to run it on its own (it needs only jose).
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

export interface ReportsServiceOptions {
  /** The API's key set, e.g. https://app.example.com/.well-known/jwks.json */
  jwksUrl: string;
  /** The API's JWT_ISSUER (its APP_ORIGIN by default). */
  issuer: string;
  /** This service's audience, as the API declares it in JWT_SERVICES. */
  audience: string;
  /** The API's JWT_ALG: pinned, so a token's own header never chooses how it is checked. */
  algorithm: 'EdDSA' | 'ES256';
  /** The API's ACCESS_TOKEN_TTL, seconds: no token older than this is accepted, whatever its `exp`. */
  maxTokenAgeSeconds: number;
  /**
   * How long the key set is trusted, seconds: the API's `Cache-Control: max-age` (300). A key
   * the API stopped publishing (after `setup --rotate --drop-previous`) is refused once it
   * runs out; restart the service to refuse it at once.
   */
  jwksMaxAgeSeconds?: number;
}

const REALM = 'reports';
const COMPACT_JWS = /^Bearer +([\w-]+\.[\w-]+\.[\w-]+)$/i;
/** Failures that are the token's fault (401). Anything else, such as the key set not answering, is ours (503). */
const TOKEN_ERRORS = [
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
];

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** RFC 6750 §3, as the API answers: no `error` without a token, `invalid_token` with a bad one. Returns null (no user). */
function refuse(res: ServerResponse, status: 400 | 401, error: string | null, description: string): null {
  const challenge = error
    ? `Bearer realm="${REALM}", error="${error}", error_description="${description}"`
    : `Bearer realm="${REALM}"`;
  send(res, status, { error: description }, { 'www-authenticate': challenge });
  return null;
}

/**
 * @example
 * createReportsService({ jwksUrl, issuer, audience: 'https://reports.example.com', algorithm: 'EdDSA', maxTokenAgeSeconds: 900 }).listen(4100)
 */
export function createReportsService(options: ReportsServiceOptions): Server {
  // Cached as long as the API says; a token naming a kid not in the cache (the API rotated
  // its key) fetches the set again, at most once a second.
  const keys = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: (options.jwksMaxAgeSeconds ?? 300) * 1000,
    cooldownDuration: 1000,
    timeoutDuration: 5000,
  });

  async function authenticate(req: IncomingMessage, res: ServerResponse): Promise<string | null> {
    const header = req.headers.authorization;
    if (!header) return refuse(res, 401, null, 'Sign in to continue');
    const token = COMPACT_JWS.exec(header)?.[1];
    if (!token || header.length > 4096) {
      return refuse(res, 400, 'invalid_request', "The Authorization header must be 'Bearer <token>'");
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: [options.algorithm],
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        maxTokenAge: options.maxTokenAgeSeconds,
      });
      return payload.sub!;
    } catch (error) {
      if (error instanceof errors.JWTExpired) return refuse(res, 401, 'invalid_token', 'The access token expired');
      if (TOKEN_ERRORS.some((type) => error instanceof type)) {
        return refuse(res, 401, 'invalid_token', 'The access token is invalid');
      }
      send(res, 503, { error: 'The key set of the API cannot be fetched; try again' }, { 'retry-after': '5' });
      return null;
    }
  }

  return createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/summary') return send(res, 404, { error: 'Not found' });
    authenticate(req, res)
      .then((userId) => {
        if (!userId) return;
        // Your data, for this user only: the token's `sub` is who is asking.
        send(res, 200, {
          userId,
          reports: [
            { id: 'sign-ins', title: 'Sign-ins this month', rows: 30 },
            { id: 'sessions', title: 'Active sessions', rows: 2 },
          ],
        });
      })
      .catch(() => send(res, 500, { error: 'Internal error' }));
  });
}
