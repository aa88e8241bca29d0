// What each role may do, as typed strings: `entity:action:access`, where access is `own`
// (rows the user owns) or `any`. Tokens carry only the role; permissions are computed
// here, on the server, from ROLE_PERMISSIONS in roles.ts. Add an entity or an action to
// ENTITIES, grant it in roles.ts, and gate procedures with permissionProcedure (trpc.ts).
import { ROLE_PERMISSIONS, type Role } from './roles.ts';

/** Every entity and what can be done to it. The compiler checks every permission against this. */
export const ENTITIES = {
  note: ['create', 'read', 'update', 'delete'],
  user: ['read', 'update', 'delete'],
  audit: ['read'],
} as const;

type Entity = keyof typeof ENTITIES;
/** What a procedure asks for: `note:update`. */
export type Capability = { [E in Entity]: `${E}:${(typeof ENTITIES)[E][number]}` }[Entity];
export type Access = 'own' | 'any';
/** What a role is granted: `note:update:own` (its own rows) or `note:update:any`. */
export type Permission = `${Capability}:${Access}`;

/**
 * How far `role` may do `capability`: to any row, only to its own, or not at all.
 *
 * @example
 * accessOf('user', 'note:update') // => 'own'
 */
export function accessOf(role: Role, capability: Capability): Access | null {
  const granted: readonly Permission[] = ROLE_PERMISSIONS[role];
  if (granted.includes(`${capability}:any`)) return 'any';
  if (granted.includes(`${capability}:own`)) return 'own';
  return null;
}

/**
 * True when `user` may do `capability` to a row owned by `ownerId`.
 *
 * @example
 * can({ id: 'u1', role: 'user' }, 'note:delete', note.ownerId)
 */
export function can(user: { id: string; role: Role }, capability: Capability, ownerId: string): boolean {
  const access = accessOf(user.role, capability);
  return access === 'any' || (access === 'own' && ownerId === user.id);
}

/** Every permission of `role`, for the client to show what the user may do (never to decide it). */
export const permissionsOf = (role: Role): readonly Permission[] => ROLE_PERMISSIONS[role];
