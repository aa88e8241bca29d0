// A tRPC link that keeps sessions alive: when a call fails because the access token
// expired, it waits for one shared refresh and retries the call once. Any other auth
// failure, or a failed refresh, ends the session. Copy it as is into other tRPC clients.
import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../../server/routers/_app.ts';

/** The reasons the server gives in `error.data.authError` (see the contract's "Errors"). */
type AuthErrorCode =
  | 'missing_token'
  | 'expired_token'
  | 'invalid_token'
  | 'revoked_session'
  | 'insufficient_role'
  | 'insufficient_permission'
  | 'reauth_required'
  | 'second_factor_required'
  | 'second_factor_expired';

export const authErrorOf = (error: unknown): AuthErrorCode | undefined =>
  error instanceof TRPCClientError ? (error.data as { authError?: AuthErrorCode } | undefined)?.authError : undefined;

export type RefreshOutcome = 'refreshed' | 'ended' | 'unavailable';

export function refreshLink(options: {
  /** Refreshes unless another caller already did after `since` (ms); shared by concurrent callers. */
  refresh: (since: number) => Promise<RefreshOutcome>;
  onSessionEnded: () => void;
}): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription: { unsubscribe: () => void } | undefined;
        const attempt = (isRetry: boolean) => {
          const startedAt = Date.now();
          subscription = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              const code = authErrorOf(error);
              if (code === 'expired_token' && !isRetry && op.path !== 'auth.refresh') {
                void options.refresh(startedAt).then((outcome) => {
                  if (outcome === 'refreshed') return attempt(true);
                  if (outcome === 'ended') options.onSessionEnded();
                  observer.error(error);
                });
                return;
              }
              // Signed in no longer (revoked, invalid, or still expired after a refresh). Not
              // reauth_required: the session is fine, it needs a password (reauth-link.ts).
              if (code === 'revoked_session' || code === 'invalid_token' || code === 'expired_token') {
                options.onSessionEnded();
              }
              observer.error(error);
            },
          });
        };
        attempt(false);
        return () => subscription?.unsubscribe();
      });
}
