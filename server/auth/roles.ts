// The one list of roles. The database column, the token's `role` claim, the
// role-gated procedures and the UI all derive from it, so a typo fails to compile.
// Add a role here (most privileged last is a good habit) and gate procedures with it.
export const ROLES = ['user', 'admin'] as const;

export type Role = (typeof ROLES)[number];

/** The role a new account gets. */
export const DEFAULT_ROLE: Role = 'user';
