// Administration: users, roles, disabling, sessions, password resets and the audit log,
// behind `user:*:any` and `audit:read:any` (the admin role has them; grant them to another
// role in roles.ts). Every change is audited with the acting admin's id.
import { TRPCError } from '@trpc/server';
import { type SQL, and, asc, count, desc, eq, gt, inArray, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tables } from '../../db/client.ts';
import { AUDIT_EVENT_TYPES } from '../../db/schema.ts';
import { sendPasswordResetByAdmin } from '../auth/account-lifecycle.ts';
import { ROLES } from '../auth/roles.ts';
import { publicUserColumns } from '../auth/accounts.ts';
import { auditEndedSessions } from '../auth/sign-in.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { Context } from '../context.ts';
import { permissionProcedure, requireRecentAuth, router } from '../trpc.ts';
import { mailOwner } from '../auth/second-factor/prove.ts';

const userIdInput = z.string().min(1).max(64);
type AuditPage = Awaited<ReturnType<AuditLog['list']>>;

/** What an admin sees of a user: public fields and the account's state, never its hash. */
const adminUserColumns = (tables: Pick<Tables, 'users'>) => ({
  ...publicUserColumns(tables),
  createdAt: tables.users.createdAt,
  disabledAt: tables.users.disabledAt,
  emailVerifiedAt: tables.users.emailVerifiedAt,
});

/** `newest`: `<createdAt ms>.<id>` of the previous page's last user; `email`: that user's address. */
const NEWEST_CURSOR = /^\d{1,15}\.[\w-]{1,64}$/;
const BAD_CURSOR = 'Not a cursor from admin.listUsers (with the same order)';

/** A LIKE pattern matching `text` anywhere, its own `%`, `_` and `\` taken literally (ESCAPE '\'). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Admins who can still act, other than `userId`: disabled ones do not count. */
async function otherEnabledAdmins(ctx: Context, userId: string): Promise<number> {
  const { users } = ctx.db.tables;
  const [row] = await ctx.db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, 'admin'), isNull(users.disabledAt), ne(users.id, userId)));
  return row?.n ?? 0;
}

/** Adds each event's user's current address (null once the account is gone), in one query. */
async function withUserEmails(ctx: Context, page: AuditPage) {
  const { users } = ctx.db.tables;
  const ids = [...new Set(page.events.flatMap((event) => event.userId ?? []))];
  const rows = ids.length
    ? await ctx.db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, ids))
    : [];
  const emails = new Map(rows.map((row) => [row.id, row.email]));
  const events = page.events.map((event) => ({ ...event, userEmail: emails.get(event.userId ?? '') ?? null }));
  return { events, nextCursor: page.nextCursor };
}

/** Adds whether each user has a second factor, in one query. */
async function withSecondFactors<T extends { id: string }>(ctx: Context, users: T[]) {
  const { totpCredentials, passkeys } = ctx.db.tables;
  const ids = users.map((user) => user.id);
  const rows = ids.length
    ? await ctx.db
        .select({ userId: totpCredentials.userId })
        .from(totpCredentials)
        .where(and(inArray(totpCredentials.userId, ids), isNotNull(totpCredentials.confirmedAt)))
        .union(ctx.db.select({ userId: passkeys.userId }).from(passkeys).where(inArray(passkeys.userId, ids)))
    : [];
  const withFactor = new Set(rows.map((row) => row.userId));
  return users.map((user) => ({ ...user, secondFactor: withFactor.has(user.id) }));
}

export const adminRouter = router({
  /**
   * A page of users, newest first (or by e-mail), optionally those whose address contains
   * `search` (any case). Pass `nextCursor` back as `cursor`, with the same order and search,
   * for the next page; it is null on the last.
   */
  listUsers: permissionProcedure('user:read:any')
    .input(
      z
        .object({
          search: z.string().trim().toLowerCase().max(254).optional(),
          cursor: z.string().min(1).max(300).optional(),
          limit: z.number().int().min(1).max(100).default(25),
          order: z.enum(['newest', 'email']).default('newest'),
        })
        .default({ limit: 25, order: 'newest' }),
    )
    .query(async ({ ctx, input }) => {
      const { users } = ctx.db.tables;
      let after: SQL | undefined;
      if (input.cursor !== undefined && input.order === 'newest') {
        if (!NEWEST_CURSOR.test(input.cursor)) throw new TRPCError({ code: 'BAD_REQUEST', message: BAD_CURSOR });
        const [ms, id] = input.cursor.split('.') as [string, string];
        const at = new Date(Number(ms));
        after = or(lt(users.createdAt, at), and(eq(users.createdAt, at), lt(users.id, id)));
      } else if (input.cursor !== undefined) {
        // By e-mail, the cursor is the last address of the previous page: one with an `@`.
        if (!input.cursor.includes('@')) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: BAD_CURSOR });
        }
        after = gt(users.email, input.cursor);
      }
      const matches = input.search ? sql`${users.email} LIKE ${containing(input.search)} ESCAPE '\\'` : undefined;
      const rows = await ctx.db
        .select(adminUserColumns(ctx.db.tables))
        .from(users)
        .where(and(matches, after))
        .orderBy(...(input.order === 'newest' ? [desc(users.createdAt), desc(users.id)] : [asc(users.email)]))
        .limit(input.limit + 1);
      const page = await withSecondFactors(ctx, rows.slice(0, input.limit));
      const last = page.at(-1);
      const nextCursor =
        rows.length > input.limit && last
          ? input.order === 'newest'
            ? `${last.createdAt.getTime()}.${last.id}`
            : last.email
          : null;
      return { users: page, nextCursor };
    }),

  /** Takes effect on the target's next request: tokens with the old role must be refreshed. */
  setRole: permissionProcedure('user:update:any')
    .input(z.object({ userId: userIdInput, role: z.enum(ROLES) }))
    .mutation(async ({ ctx, input }) => {
      const now = ctx.now();
      const { users } = ctx.db.tables;
      const previous = await ctx.accounts.getUser(input.userId);
      const user = await ctx.db.transaction(async () => {
        // A disabled admin cannot act: the last enabled one keeps the role.
        if (input.role !== 'admin' && (await otherEnabledAdmins(ctx, input.userId)) === 0) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'The last admin cannot lose the admin role' });
        }
        const [updated] = await ctx.db
          .update(users)
          .set({ role: input.role, updatedAt: now })
          .where(eq(users.id, input.userId))
          .returning(publicUserColumns(ctx.db.tables));
        // Every process refuses the user's tokens with the old role from the commit on.
        if (updated) await ctx.revocations.setRole(updated.id, updated.role, now);
        return updated;
      });
      if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such user' });
      await ctx.audit({
        type: 'role_changed',
        outcome: 'success',
        userId: user.id,
        detail: `${previous?.role} → ${user.role} by ${ctx.user.id}`,
      });
      return { user };
    }),

  /**
   * Disables an account, or enables it again. Disabling ends every session at once (the
   * next request with one of its access tokens is refused, and so is its refresh), ends
   * every e-mailed link, and from then on sign-in is refused exactly like a wrong password.
   * Nobody can disable themselves or the last enabled admin. Doing what is already done
   * changes nothing.
   */
  setDisabled: permissionProcedure('user:update:any')
    .input(z.object({ userId: userIdInput, disabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      if (input.disabled && input.userId === ctx.user.id) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'You cannot disable your own account' });
      }
      const now = ctx.now();
      const { users } = ctx.db.tables;
      const columns = adminUserColumns(ctx.db.tables);
      const { user, ended, changed } = await ctx.db.transaction(async () => {
        const [target] = await ctx.db.select(columns).from(users).where(eq(users.id, input.userId));
        if (!target) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such user' });
        if (!!target.disabledAt === input.disabled) return { user: target, ended: [] as string[], changed: false };
        if (input.disabled && target.role === 'admin' && (await otherEnabledAdmins(ctx, target.id)) === 0) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'The last enabled admin cannot be disabled' });
        }
        const [user] = await ctx.db
          .update(users)
          .set({ disabledAt: input.disabled ? now : null, updatedAt: now })
          .where(eq(users.id, target.id))
          .returning(columns);
        if (!input.disabled) return { user: user!, ended: [] as string[], changed: true };
        // In the same transaction: no session or link of the account outlives the disabling
        // (and a sign-in that was checking the password meanwhile gets no session: sessions.ts).
        await ctx.emailTokens.revokeForUser(target.id, now);
        const ended = await ctx.sessions.revokeUserSessions(target.id, 'account_disabled', now);
        return { user: user!, ended, changed: true };
      });
      if (changed) {
        await auditEndedSessions(ctx, user.id, ended, 'account_disabled', `by admin ${ctx.user.id}`);
        await ctx.audit({
          type: input.disabled ? 'user_disabled' : 'user_enabled',
          outcome: 'success',
          userId: user.id,
          detail: `by admin ${ctx.user.id}${input.disabled ? `, ${ended.length} session(s) ended` : ''}`,
        });
      }
      return { user, endedSessions: ended.length };
    }),

  /** Ends every session of a user at once (ASVS V7.4.5): a lost laptop, a departing employee. */
  revokeUserSessions: permissionProcedure('user:update:any')
    .input(z.object({ userId: userIdInput }))
    .mutation(async ({ ctx, input }) => {
      if (!(await ctx.accounts.getUser(input.userId)))
        throw new TRPCError({ code: 'NOT_FOUND', message: 'No such user' });
      const ended = await ctx.sessions.revokeUserSessions(input.userId, 'revoked', ctx.now());
      const by = `by admin ${ctx.user.id}`;
      await auditEndedSessions(ctx, input.userId, ended, 'revoked', by);
      // The admin's action is on record even when there was nothing to end.
      if (ended.length === 0) {
        await ctx.audit({
          type: 'session_revoked',
          outcome: 'success',
          userId: input.userId,
          detail: `none live, ${by}`,
        });
      }
      return { endedSessions: ended.length };
    }),

  /**
   * Removes every second factor of a user (authenticator app, passkeys, recovery codes), for
   * someone who lost them (after checking who they are, outside the app). Needs the admin's
   * recent proof; audited, and mailed to the user.
   */
  removeSecondFactor: permissionProcedure('user:update:any')
    .input(z.object({ userId: userIdInput }))
    .mutation(async ({ ctx, input }) => {
      // As for the owner turning it off: a stolen admin token alone must not strip factors.
      await requireRecentAuth(ctx);
      if (input.userId === ctx.user.id) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'Turn off your own on the Security page' });
      }
      const user = await ctx.accounts.getUser(input.userId);
      if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such user' });
      const removed = await ctx.secondFactors.removeAll(user.id);
      await ctx.signInChallenges.revokeForUser(user.id);
      if (!removed.totp && removed.passkeys === 0) return { removed: false };
      const what = [removed.totp && 'totp', removed.passkeys && `${removed.passkeys} passkey(s)`].filter(Boolean);
      await ctx.audit({
        type: 'second_factor_disabled',
        outcome: 'success',
        userId: user.id,
        detail: `${what.join(' and ')} by admin ${ctx.user.id}`,
      });
      await mailOwner(ctx, user, 'second_factor_disabled', { byAdmin: true });
      return { removed: true };
    }),

  /**
   * Sends the user the same password-reset mail as `auth.requestPasswordReset`. Refused for
   * a disabled account, and when the address had several mails lately (429).
   */
  sendPasswordReset: permissionProcedure('user:update:any')
    .input(z.object({ userId: userIdInput }))
    .mutation(async ({ ctx, input }) => sendPasswordResetByAdmin(ctx, input.userId)),

  /**
   * The security audit log, newest first; pass `nextCursor` back as `before` for the next
   * page. Filter by `userId`, or by `email`: that address's user's events and the failed
   * sign-ins at the address (with no such user, only those).
   * Each event carries its user's current address (`userEmail`), for people to read.
   */
  auditEvents: permissionProcedure('audit:read:any')
    .input(
      z.object({
        // Event ids are 32-bit on PostgreSQL: a larger cursor is no cursor of ours.
        before: z.number().int().positive().max(2_147_483_647).optional(),
        limit: z.number().int().min(1).max(200).default(50),
        userId: userIdInput.optional(),
        email: z.string().trim().toLowerCase().min(1).max(254).optional(),
        type: z.enum(AUDIT_EVENT_TYPES).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { email, ...query } = input;
      if (email === undefined) return withUserEmails(ctx, await ctx.auditLog.list(query));
      const user = await ctx.accounts.findByEmail(email);
      if (query.userId !== undefined && query.userId !== user?.id) {
        return withUserEmails(ctx, { events: [], nextCursor: null });
      }
      return withUserEmails(ctx, await ctx.auditLog.list({ ...query, userId: user?.id, email }));
    }),
});
