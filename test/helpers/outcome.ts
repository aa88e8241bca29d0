// What a refused access token looks like over HTTP, for the token attack tests.
import type { CallResult } from './client.ts';

const INVALID = 'The access token is invalid';
const EXPIRED = 'The access token expired';

/** Status, authError and challenge in one object, so a failure shows all three. */
export function outcome(res: CallResult) {
  return {
    status: res.status,
    authError: res.body.error?.data.authError ?? null,
    message: res.body.error?.message ?? null,
    wwwAuthenticate: res.headers.get('www-authenticate'),
  };
}

/** The outcome of a token refused as invalid or expired, with its RFC 6750 challenge. */
export function refused(server: { config: { appOrigin: string } }, authError: 'invalid_token' | 'expired_token') {
  const message = authError === 'expired_token' ? EXPIRED : INVALID;
  const realm = new URL(server.config.appOrigin).host;
  return {
    status: 401,
    authError,
    message,
    wwwAuthenticate: `Bearer realm="${realm}", error="invalid_token", error_description="${message}"`,
  };
}

/**
 * A response's headers, for comparing two answers that must not tell accounts apart:
 * without `date` and `x-request-id`, which differ on every response and so reveal nothing
 * (and `also`, such as a Retry-After counting down).
 */
export const comparableHeaders = (headers: Headers, also: string[] = []) =>
  [...headers].filter(([name]) => name !== 'date' && name !== 'x-request-id' && !also.includes(name));
