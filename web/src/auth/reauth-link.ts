// A tRPC link for step-up authentication: when the server answers `reauth_required` (a
// recent-auth procedure and a stale password proof), it asks for the password, then
// retries the call once. Every recent-auth procedure gets this without code of its own.
import type { TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../../server/routers/_app.ts';
import { authErrorOf } from './refresh-link.ts';

export function reauthLink(options: {
  /** Asks for the password and calls auth.reauthenticate; false when the user cancels. */
  confirm: () => Promise<boolean>;
}): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription: { unsubscribe: () => void } | undefined;
        const attempt = (isRetry: boolean) => {
          subscription = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              if (authErrorOf(error) !== 'reauth_required' || isRetry) return observer.error(error);
              // Cancelled: the call fails with the server's "Confirm your password to continue".
              void options.confirm().then((confirmed) => (confirmed ? attempt(true) : observer.error(error)));
            },
          });
        };
        attempt(false);
        return () => subscription?.unsubscribe();
      });
}
