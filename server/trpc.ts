// tRPC is initialised here, once. Routers import only what this file exports: the
// router factory and one procedure builder per access level. Edit it to add an
// access level; keep the auth logic itself in server/auth/.
import { TRPCError, initTRPC } from '@trpc/server';
import { ZodError, z } from 'zod';
import { requireUser } from './auth/authenticate.ts';
import { AuthError, SecondFactorRequiredError, toTRPCError } from './auth/errors.ts';
import { HasherBusyError } from './auth/passwords.ts';
import { RateLimitError } from './auth/rate-limits.ts';
import { type Access as PermissionAccess, type Capability, type Permission, accessOf } from './auth/permissions.ts';
import type { Role } from './auth/roles.ts';
import type { Context } from './context.ts';

/** Every procedure declares who may call it (test/server/access.test.ts checks). */
export type Access =
  'public' | 'signed-in' | 'recent-auth' | { roles: readonly Role[] } | { permission: Capability | Permission };

const t = initTRPC
  .context<Context>()
  .meta<{ access: Access }>()
  .create({
    // Stack traces never leave the server; onError in server/app.ts logs them.
    isDev: false,
    errorFormatter({ shape, error }) {
      return {
        ...shape,
        // An unexpected error's message may name internals (SQL, file paths): onError logs it.
        message: error.code === 'INTERNAL_SERVER_ERROR' ? 'Internal server error' : shape.message,
        data: {
          ...shape.data,
          authError: error.cause instanceof AuthError ? error.cause.code : null,
          zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
          // Which factors to offer (a password reset of an account with some): only its link's holder sees it.
          ...(error.cause instanceof SecondFactorRequiredError && { secondFactorMethods: error.cause.methods }),
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * A mutation sent with no body (what `.mutate()` without an argument sends) has no input,
 * rather than failing to parse as JSON: so an optional input, like `auth.refresh`'s, can be
 * left out, and a required one is told it is missing.
 */
const emptyBodyIsNoInput = t.middleware(({ ctx, next }) =>
  ctx.hasEmptyBody ? next({ getRawInput: async () => undefined }) : next(),
);

/** Service errors thrown by auth modules (framework-free) become the right HTTP status. */
const base = t.procedure.use(emptyBodyIsNoInput).use(async ({ ctx, path, next }) => {
  const result = await next();
  if (result.ok) return result;
  const { cause } = result.error;
  if (cause instanceof RateLimitError) {
    await ctx.audit({ type: 'rate_limited', outcome: 'failure', detail: path });
    throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: cause.message, cause });
  }
  if (cause instanceof HasherBusyError) {
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The server is busy; try again in a second', cause });
  }
  return result;
});

/** Anyone may call it, signed in or not. */
export const publicProcedure = base.meta({ access: 'public' });

const signedIn = t.middleware(async ({ ctx, next }) => {
  const user = await requireUser(ctx).catch((error: unknown) => {
    if (!(error instanceof AuthError)) throw error;
    // The exact reason (jose code and claim) helps debugging; the token itself is never logged.
    ctx.logger.debug('access token refused', { code: error.code, reason: error.reason, ip: ctx.ip });
    throw toTRPCError(error);
  });
  return next({ ctx: { user } });
});

/** A signed-in user: `ctx.user` is `{ id, role, sessionId }`. */
export const protectedProcedure = base.meta({ access: 'signed-in' }).use(signedIn);

/**
 * A signed-in user whose session proved the password within REAUTH_WINDOW ("sudo mode"),
 * for actions a stolen session must not take: change the e-mail, delete the account, end
 * other sessions. A stale proof gets 401 `reauth_required`; `auth.reauthenticate` renews it.
 *
 * @example
 * delete: recentAuthProcedure.mutation(({ ctx }) => deleteAccount(ctx))
 */
export const recentAuthProcedure = protectedProcedure.meta({ access: 'recent-auth' }).use(async ({ ctx, next }) => {
  await requireRecentAuth(ctx);
  return next();
});

/**
 * The recent-auth check, for a procedure that needs it only for some inputs (ending another
 * session, but not one's own). Throws the same 401 `reauth_required` as recentAuthProcedure.
 */
export async function requireRecentAuth(ctx: Context & { user: { sessionId: string } }) {
  const window = ctx.config.reauthWindow;
  if (!(await ctx.sessions.isRecentlyAuthenticated(ctx.user.sessionId, ctx.now(), window))) {
    throw toTRPCError(
      new AuthError('reauth_required', 'password proof older than REAUTH_WINDOW', undefined, { max_age: window }),
    );
  }
}

/**
 * A signed-in user with one of `roles`.
 *
 * @example
 * deleteUser: roleProcedure('admin').input(…).mutation(…)
 */
export const roleProcedure = (...roles: Role[]) =>
  protectedProcedure.meta({ access: { roles } }).use(({ ctx, next }) => {
    if (!roles.includes(ctx.user.role)) {
      throw toTRPCError(new AuthError('insufficient_role', `${ctx.user.role} is not ${roles.join('|')}`));
    }
    return next();
  });

export const adminProcedure = roleProcedure('admin');

/**
 * A signed-in user whose role grants `permission`. With a capability (`note:update`), `:own`
 * is enough and `ctx.access` says which the user has: the procedure then checks each row
 * with `can(ctx.user, 'note:update', row.ownerId)` or scopes its query when it is `own`.
 * With a full permission (`user:update:any`), only that one will do.
 *
 * @example
 * update: permissionProcedure('note:update').input(…).mutation(({ ctx, input }) => …)
 * setRole: permissionProcedure('user:update:any').input(…).mutation(…)
 */
export const permissionProcedure = (permission: Capability | Permission) =>
  protectedProcedure.meta({ access: { permission } }).use(({ ctx, next }) => {
    const [entity, action, required] = permission.split(':') as [string, string, PermissionAccess | undefined];
    const access = accessOf(ctx.user.role, `${entity}:${action}` as Capability);
    if (!access || (required === 'any' && access !== 'any')) {
      throw toTRPCError(new AuthError('insufficient_permission', `${ctx.user.role} lacks ${permission}`));
    }
    return next({ ctx: { access } });
  });
