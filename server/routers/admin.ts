// Administration: users, roles, sessions and the audit log, behind `user:*:any` and
// `audit:read:any` (the admin role has them; grant them to another role in roles.ts).
import { TRPCError } from '@trpc/server';
import { and, count, eq, ne } from 'drizzle-orm';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES, users } from '../../db/schema.ts';
import { ROLES } from '../auth/roles.ts';
import { publicUserColumns } from '../auth/accounts.ts';
import { auditEndedSessions } from '../auth/sign-in.ts';
import { permissionProcedure, router } from '../trpc.ts';

export const adminRouter = router({
  listUsers: permissionProcedure('user:read:any').query(({ ctx }) =>
    ctx.db
      .select({ ...publicUserColumns, createdAt: users.createdAt })
      .from(users)
      .orderBy(users.createdAt)
      .all(),
  ),

  /** Takes effect on the target's next request: tokens with the old role must be refreshed. */
  setRole: permissionProcedure('user:update:any')
    .input(z.object({ userId: z.string().min(1).max(64), role: z.enum(ROLES) }))
    .mutation(({ ctx, input }) => {
      const now = ctx.now();
      const previous = ctx.accounts.getUser(input.userId);
      const user = ctx.db.transaction(() => {
        const [otherAdmins] = ctx.db
          .select({ n: count() })
          .from(users)
          .where(and(eq(users.role, 'admin'), ne(users.id, input.userId)))
          .all();
        if (input.role !== 'admin' && otherAdmins?.n === 0) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'The last admin cannot lose the admin role' });
        }
        return ctx.db
          .update(users)
          .set({ role: input.role, updatedAt: now })
          .where(eq(users.id, input.userId))
          .returning(publicUserColumns)
          .get();
      });
      if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such user' });
      ctx.revocations.setRole(user.id, user.role, now);
      ctx.audit({
        type: 'role_changed',
        outcome: 'success',
        userId: user.id,
        detail: `${previous?.role} → ${user.role} by ${ctx.user.id}`,
      });
      return { user };
    }),

  /** Ends every session of a user at once (ASVS V7.4.5): a lost laptop, a departing employee. */
  revokeUserSessions: permissionProcedure('user:update:any')
    .input(z.object({ userId: z.string().min(1).max(64) }))
    .mutation(({ ctx, input }) => {
      if (!ctx.accounts.getUser(input.userId)) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such user' });
      const ended = ctx.sessions.revokeUserSessions(input.userId, 'revoked', ctx.now());
      auditEndedSessions(ctx, input.userId, ended, 'revoked', `by admin ${ctx.user.id}`);
      return { endedSessions: ended.length };
    }),

  /** The security audit log, newest first; pass `nextCursor` back as `before` for the next page. */
  auditEvents: permissionProcedure('audit:read:any')
    .input(
      z.object({
        before: z.number().int().positive().optional(),
        limit: z.number().int().min(1).max(200).default(50),
        userId: z.string().min(1).max(64).optional(),
        type: z.enum(AUDIT_EVENT_TYPES).optional(),
      }),
    )
    .query(({ ctx, input }) => ctx.auditLog.list(input)),
});
