// How tokens travel. Browsers: HttpOnly cookies, which no script can read. Native clients
// (mobile apps, CLIs), which have no browser to keep cookies from scripts: the response
// body and `Authorization: Bearer` (decision 011). One request uses one or the other.
import type { IncomingMessage } from 'node:http';
import { ACCESS_COOKIE, REFRESH_COOKIE } from './cookies.ts';

/** What a native client sends to receive its tokens in response bodies. Browsers never send it. */
export const NATIVE_HEADER = 'x-auth-transport';
export const NATIVE_HEADER_VALUE = 'bearer';

export type Transport = 'cookie' | 'bearer';

export interface TransportProblem {
  status: 400 | 403;
  code: 'BAD_REQUEST' | 'FORBIDDEN';
  message: string;
  /** RFC 6750 §3.1: a malformed request, or one with two tokens, is `invalid_request`. */
  bearerError?: 'invalid_request';
}

/** RFC 6750 §2.1: `Bearer` and a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * A request from a browser says so: current browsers send `Sec-Fetch-Site` to secure
 * origins (HTTPS, localhost), and `Origin` on every state-changing or cross-origin request,
 * which is every request that could carry tokens away. Not `Sec-Fetch-Mode`: Node's own
 * fetch sends that one too.
 */
const isFromBrowser = (req: IncomingMessage) =>
  ['origin', 'sec-fetch-site', 'sec-fetch-dest', 'sec-fetch-user'].some((name) => req.headers[name] !== undefined);

/**
 * The request's transport and bearer token, or why it is refused. Runs before tRPC and before
 * the CSRF checks, which a native request skips: it carries no cookie for a forged request
 * to ride on, and a page cannot add our header or `Authorization` cross-site without a CORS
 * preflight this server never grants.
 *
 * @example
 * readTransport(req) // => { transport: 'bearer', bearerToken: 'eyJ…' } | { problem: { status: 403, … } }
 */
export function readTransport(req: IncomingMessage): {
  transport: Transport;
  bearerToken?: string;
  problem?: TransportProblem;
} {
  const declared = req.headers[NATIVE_HEADER];
  // Basic credentials for a staging proxy, say, are not ours: without our header, only a
  // Bearer scheme makes a request native.
  const authorization =
    declared === undefined && !/^bearer(\s|$)/i.test(req.headers.authorization ?? '')
      ? undefined
      : req.headers.authorization;
  if (authorization === undefined && declared === undefined) return { transport: 'cookie' };
  const refuse = (problem: TransportProblem) => ({ transport: 'cookie' as const, problem });

  if (declared !== undefined && declared !== NATIVE_HEADER_VALUE) {
    return refuse({ status: 400, code: 'BAD_REQUEST', message: `${NATIVE_HEADER} must be "${NATIVE_HEADER_VALUE}"` });
  }
  const bearerToken = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  if (authorization !== undefined && !bearerToken) {
    return refuse({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'The Authorization header must be "Bearer <access token>"',
      bearerError: 'invalid_request',
    });
  }
  if (isFromBrowser(req)) {
    return refuse({
      status: 403,
      code: 'FORBIDDEN',
      message:
        'Bearer tokens and tokens in response bodies are for native clients; a browser (Origin or ' +
        'Sec-Fetch-* sent) uses the session cookies',
    });
  }
  const cookies = req.headers.cookie ?? '';
  if (cookies.includes(`${ACCESS_COOKIE}=`) || cookies.includes(`${REFRESH_COOKIE}=`)) {
    return refuse({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'Send the tokens in cookies or with Authorization: Bearer, not both',
      bearerError: 'invalid_request',
    });
  }
  return { transport: 'bearer', bearerToken };
}
