// "Who am I" for every component, and what to do once a call signed someone in.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useLocation } from 'wouter';
import type { AppRouter } from '../../../server/routers/_app.ts';
import { trpc } from '../trpc.ts';
import { announceSignIn } from './session.ts';

export type Me = NonNullable<inferRouterOutputs<AppRouter>['auth']['session']>;

/**
 * The signed-in user, or null when nobody is, from `auth.session`: the single source of
 * truth for "who am I". Signed out, it answers null rather than 401, so loading a page
 * signed out logs no failed request.
 */
export const useMe = () => useQuery(trpc.auth.session.queryOptions());

/** What to refetch when who the user is may have changed (a refresh, a confirmed address). */
export const meQueryKey = () => trpc.auth.session.queryKey();

/**
 * After sign-in (password, passkey, sign-up link or reset link): remember the user, tell the
 * other tabs, and go to `returnTo` (a path checked by safeReturnPath) or home.
 */
export function useSignedIn(returnTo = '/') {
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  return (user: Me) => {
    queryClient.setQueryData(meQueryKey(), user);
    announceSignIn();
    // Replace: Back must not return to a form whose link is now used up.
    navigate(returnTo, { replace: true });
  };
}
