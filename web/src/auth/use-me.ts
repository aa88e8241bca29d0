import { useQuery } from '@tanstack/react-query';
import { trpc } from '../trpc.ts';

/** The signed-in user, from `user.me`; the single source of truth for "who am I". */
export const useMe = () => useQuery(trpc.user.me.queryOptions());
