// "Confirm your password" requests, from reauthLink to the one ReauthDialog in App.
// Concurrent calls that need it share one prompt. Free of React so trpc.ts can import it.

let pending: { promise: Promise<boolean>; resolve: (confirmed: boolean) => void } | null = null;
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());

/** Opens the dialog (or joins the open one); true once the password was confirmed, false if cancelled. */
export function requestReauth(): Promise<boolean> {
  if (!pending) {
    let resolve!: (confirmed: boolean) => void;
    const promise = new Promise<boolean>((settle) => (resolve = settle));
    pending = { promise, resolve };
    notify();
  }
  return pending.promise;
}

/** Closes the dialog: every waiting call retries (true) or fails with its error (false). */
export function settleReauth(confirmed: boolean) {
  pending?.resolve(confirmed);
  pending = null;
  notify();
}

/** For useSyncExternalStore. */
export const isReauthRequested = () => pending !== null;
export function subscribeReauth(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
