// The one map of auth failures: HTTP status, RFC 6750 error and message. The code
// travels to clients as `error.data.authError`; the SPA refreshes only on `expired_token`.
import { TRPCError } from '@trpc/server';

export const AUTH_ERRORS = {
  missing_token: { status: 'UNAUTHORIZED', bearerError: null, message: 'Sign in to continue' },
  expired_token: {
    status: 'UNAUTHORIZED',
    bearerError: 'invalid_token',
    message: 'The access token expired',
  },
  invalid_token: {
    status: 'UNAUTHORIZED',
    bearerError: 'invalid_token',
    message: 'The access token is invalid',
  },
  revoked_session: {
    status: 'UNAUTHORIZED',
    bearerError: 'invalid_token',
    message: 'The session has ended; sign in again',
  },
  insufficient_role: {
    status: 'FORBIDDEN',
    bearerError: 'insufficient_scope',
    message: 'Your role does not allow this',
  },
  /** Signed in, but no permission of the role covers this action (or this row: `:own` only). */
  insufficient_permission: {
    status: 'FORBIDDEN',
    bearerError: 'insufficient_scope',
    message: 'You are not allowed to do this',
  },
  /** RFC 9470: signed in, but this action needs a password proof within REAUTH_WINDOW. */
  reauth_required: {
    status: 'UNAUTHORIZED',
    bearerError: 'insufficient_user_authentication',
    message: 'Confirm your password to continue',
  },
  /** The account has a second factor and this step needs it (a password reset, say): send `secondFactor`. */
  second_factor_required: {
    status: 'UNAUTHORIZED',
    bearerError: null,
    message:
      'Confirm it is you with a second factor: a code from your authenticator app, a passkey, or a recovery code',
  },
  /** The sign-in's second-factor step is missing, used or past its few minutes: start again. */
  second_factor_expired: {
    status: 'UNAUTHORIZED',
    bearerError: null,
    message: 'This sign-in step expired; sign in again',
  },
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERRORS;

/** The `cause` of every auth TRPCError; `reason` is for debug logs only, never for clients. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    readonly reason: string = code,
    message: string = AUTH_ERRORS[code].message,
    /** Extra challenge parameters, such as RFC 9470's `max_age`. */
    readonly challenge: Record<string, number> = {},
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** `second_factor_required`, naming what the account can answer with (`error.data.secondFactorMethods`). */
export class SecondFactorRequiredError extends AuthError {
  constructor(readonly methods: readonly string[]) {
    super('second_factor_required');
  }
}

/**
 * The RFC 6750 §3 challenge for a failure, or for a request that sent no token.
 *
 * @example
 * wwwAuthenticate('app.example.com', new AuthError('expired_token'))
 * // => 'Bearer realm="app.example.com", error="invalid_token", error_description="The access token expired"'
 */
export function wwwAuthenticate(realm: string, error: AuthError | null): string {
  const bearerError = error ? AUTH_ERRORS[error.code].bearerError : null;
  if (!error || !bearerError) return `Bearer realm="${realm}"`;
  const extra = Object.entries(error.challenge).map(([name, value]) => `, ${name}=${value}`);
  return `Bearer realm="${realm}", error="${bearerError}", error_description="${error.message}"${extra.join('')}`;
}

export function toTRPCError(error: AuthError): TRPCError {
  return new TRPCError({ code: AUTH_ERRORS[error.code].status, message: error.message, cause: error });
}
