// "Who am I" for every component, and what to do once a call signed someone in.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useLocation } from 'wouter';
import type { AppRouter } from '../../../server/routers/_app.ts';
import { trpc } from '../trpc.ts';
import { announceSignIn } from './session.ts';

export type Me = inferRouterOutputs<AppRouter>['user']['me'];

/** The signed-in user, from `user.me`; the single source of truth for "who am I". */
export const useMe = () => useQuery(trpc.user.me.queryOptions());

/** After sign-in (password, sign-up link or reset link): remember the user, tell the other tabs, go home. */
export function useSignedIn() {
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  return (user: Me) => {
    queryClient.setQueryData(trpc.user.me.queryKey(), user);
    announceSignIn();
    // Replace: Back must not return to a form whose link is now used up.
    navigate('/', { replace: true });
  };
}
