// The one list of roles, each with what it may do. The database column, the token's
// `role` claim, the gated procedures and the UI all derive from it, so a typo fails to
// compile. Add a role as one line here (most privileged last is a good habit); its
// permissions are checked against ENTITIES in permissions.ts.
import type { Permission } from './permissions.ts';

export const ROLE_PERMISSIONS = {
  user: ['note:create:own', 'note:read:own', 'note:update:own', 'note:delete:own'],
  admin: [
    'note:create:own',
    'note:read:any',
    'note:update:any',
    'note:delete:any',
    'user:read:any',
    'user:update:any',
    'user:delete:any',
    'audit:read:any',
  ],
} as const satisfies Record<string, readonly Permission[]>;

export type Role = keyof typeof ROLE_PERMISSIONS;

/** The roles, in the order above (a tuple, as zod and drizzle enums want). */
export const ROLES = Object.keys(ROLE_PERMISSIONS) as [Role, ...Role[]];

/** The role a new account gets. */
export const DEFAULT_ROLE: Role = 'user';
