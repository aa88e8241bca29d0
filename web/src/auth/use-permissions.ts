// What the signed-in user's role may do, from `user.permissions`, so the UI shows only what
// they can use. It never grants anything: the server checks every call again.
import { useQuery } from '@tanstack/react-query';
import type { Capability, Permission } from '../../../server/auth/permissions.ts';
import { queryClient } from '../query-client.ts';
import { trpc } from '../trpc.ts';
import { onSessionRefreshed } from './session.ts';
import { meQueryKey, useMe } from './use-me.ts';

/**
 * `can()` answers like the server does. A capability (`note:update`) needs `:own` or `:any`
 * (permissionProcedure); with an `ownerId` (a row's), `:own` counts only for the user's own
 * rows (can() in server/auth/permissions.ts). A full permission (`user:read:any`) needs itself.
 *
 * @example
 * const { can } = usePermissions();
 * can('note:read') // true with note:read:own or note:read:any
 * can('note:delete', note.ownerId) // the user's own note, or any note with note:delete:any
 * can('user:read:any') // an admin
 */
export function usePermissions() {
  const me = useMe();
  // Asked only of someone signed in: a signed-out page load makes no request that answers 401.
  const permissions = useQuery({ ...trpc.user.permissions.queryOptions(), enabled: Boolean(me.data) });
  const granted: readonly Permission[] = permissions.data ?? [];
  const can = (wanted: Capability | Permission, ownerId?: string) => {
    const [entity, action, required] = wanted.split(':');
    const capability = `${entity}:${action}` as Capability;
    if (granted.includes(`${capability}:any`)) return true;
    if (required === 'any' || !granted.includes(`${capability}:own`)) return false;
    return ownerId === undefined || ownerId === me.data?.id;
  };
  return { can, isPending: permissions.isPending };
}

// A refreshed access token carries the role as it is now: an admin may have changed it (the
// server then answers `expired_token` early, and refreshLink refreshes and retries). Ask
// again who the user is and what they may do, so the navigation follows at once.
onSessionRefreshed(() => {
  void queryClient.invalidateQueries({ queryKey: meQueryKey() });
  void queryClient.invalidateQueries({ queryKey: trpc.user.permissions.queryKey() });
});
