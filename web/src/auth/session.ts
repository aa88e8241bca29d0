// Session coordination across calls and tabs. The tokens themselves are HttpOnly
// cookies this code never sees; only "when did someone last refresh" and "we signed
// out" are shared, through localStorage and a BroadcastChannel.
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { navigate } from 'wouter/use-browser-location';
import type { AppRouter } from '../../../server/routers/_app.ts';
import { queryClient } from '../query-client.ts';
import { settleReauth } from './reauth-prompt.ts';
import { REFRESHED_AT, isRefreshedSince } from './refreshed-at.ts';
import { signInPathFor } from './return-path.ts';
import { authErrorOf, type RefreshOutcome } from './refresh-link.ts';

const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('auth');

// Its own client without refreshLink, so a failing refresh cannot trigger another.
const refreshClient = createTRPCClient<AppRouter>({ links: [httpLink({ url: '/trpc' })] });
let inFlight: Promise<RefreshOutcome> | null = null;

async function refreshOnce(since: number): Promise<RefreshOutcome> {
  // Another tab refreshed after our call started: the shared cookie is already fresh.
  if (isRefreshedSince(localStorage.getItem(REFRESHED_AT), since, Date.now())) return 'refreshed';
  try {
    await refreshClient.auth.refresh.mutate();
    localStorage.setItem(REFRESHED_AT, String(Date.now()));
    return 'refreshed';
  } catch (error) {
    return error instanceof TRPCClientError && authErrorOf(error) ? 'ended' : 'unavailable';
  }
}

const refreshedListeners = new Set<() => void>();

/**
 * Calls `listener` after each refresh that succeeded (this tab's, or another tab's it reused),
 * before the refused calls are retried: the new access token carries the role as it is now.
 * Returns a function that removes it.
 */
export function onSessionRefreshed(listener: () => void): () => void {
  refreshedListeners.add(listener);
  return () => refreshedListeners.delete(listener);
}

/** One refresh at a time per tab (single flight) and across tabs (Web Locks). */
export function refreshSession(since: number): Promise<RefreshOutcome> {
  const locked = async (): Promise<RefreshOutcome> =>
    navigator.locks ? await navigator.locks.request('auth:refresh', () => refreshOnce(since)) : refreshOnce(since);
  inFlight ??= locked()
    .then((outcome) => {
      if (outcome === 'refreshed') refreshedListeners.forEach((listener) => listener());
      return outcome;
    })
    .finally(() => {
      inFlight = null;
    });
  return inFlight;
}

/**
 * Forgets everything about the signed-in user and shows Sign in with `notice`. With
 * `returnHere`, signing in again comes back to this page: for a session that ended under the
 * user, not for one they ended themselves.
 */
export function endSession(notice: string, { broadcast = true, returnHere = false } = {}) {
  // A password dialog still open is moot: its calls fail instead of waiting forever.
  settleReauth(false);
  queryClient.clear();
  if (broadcast) channel?.postMessage('signed-out');
  const { pathname, search, hash } = window.location;
  navigate(returnHere ? signInPathFor(`${pathname}${search}${hash}`) : '/sign-in', { state: { notice } });
}

/** Tells the other tabs a user signed in, so they leave their Sign-in page. */
export function announceSignIn() {
  channel?.postMessage('signed-in');
}

channel?.addEventListener('message', ({ data }) => {
  if (data === 'signed-out') endSession('You signed out in another tab.', { broadcast: false });
  if (data === 'signed-in') void queryClient.invalidateQueries();
});
