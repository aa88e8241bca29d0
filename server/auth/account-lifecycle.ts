// An account's life over e-mail: sign-up through a link, password reset, e-mail change,
// deletion, and the password proof that sensitive actions need. The Copenhagen Book's
// designs: hashed single-use links, answers that never say whether an address has an
// account, every session ended on reset. Routers call these; edit the rules here.
import { TRPCError } from '@trpc/server';
import { and, count, eq, isNull, ne } from 'drizzle-orm';
import type { Context } from '../context.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { insertVerifiedUser, type PublicUser } from './accounts.ts';
import type { AuditEvent } from './audit-log.ts';
import type { EmailTokenPurpose } from './email-tokens.ts';
import { SecondFactorRequiredError, toTRPCError } from './errors.ts';
import {
  type SecondFactorProof,
  checkSecondFactor,
  requireSecondFactor,
  secondFactorMethods,
} from './second-factor/prove.ts';
import { CredentialsChangedError } from './sessions.ts';
import { type NativeTokens, auditEndedSessions, clearSessionCookies, startSession } from './sign-in.ts';

/** A link that signs in: the user, and for a native client its tokens (browsers get cookies). */
export interface SignedIn {
  user: PublicUser;
  tokens: NativeTokens | undefined;
}

/** What every link that cannot be used gets: which of unknown, used or expired is not said. */
export const INVALID_LINK = 'This link is invalid or has expired; ask for a new one';

/** Where the SPA takes each link (the token rides in the fragment: it never reaches a server log). */
const LINK_PATHS: Record<EmailTokenPurpose, string> = {
  sign_up: '/complete-sign-up',
  password_reset: '/reset-password',
  email_change: '/confirm-email',
};
const linkTo = (ctx: Context, purpose: EmailTokenPurpose, token: string) =>
  `${ctx.config.appOrigin}${LINK_PATHS[purpose]}#token=${token}`;

/** A mail can be sent for as long as its link works; a notice, for a day. */
const NOTICE_LIFETIME_MS = 24 * 60 * 60 * 1000;
const noticeExpiry = (now: Date) => new Date(now.getTime() + NOTICE_LIFETIME_MS);

/**
 * `auth.register`: a new address gets a link to complete the sign-up, an address that has
 * an account gets a notice. The caller sees the same answer either way, after the same work.
 */
export async function requestSignUp(ctx: Context, email: string) {
  await ctx.limits.mailPerIp.consume(ctx.ip);
  const now = ctx.now();
  const mayMail = await ctx.limits.mayMail(email);
  const existing = await ctx.accounts.findByEmail(email);
  await ctx.db.transaction(async () => {
    if (!mayMail) return;
    if (existing) {
      const data = {
        signInUrl: `${ctx.config.appOrigin}/sign-in`,
        resetUrl: `${ctx.config.appOrigin}/forgot-password`,
      };
      await enqueueMail(
        ctx.db,
        { kind: 'account_exists', data, to: email, userId: existing.id },
        { now, expiresAt: noticeExpiry(now) },
      );
      return;
    }
    const { token, expiresAt } = await ctx.emailTokens.issue({ purpose: 'sign_up', email, userId: null }, now);
    await enqueueMail(
      ctx.db,
      { kind: 'sign_up', data: { link: linkTo(ctx, 'sign_up', token) }, to: email, userId: null },
      { now, expiresAt },
    );
  });
  ctx.mail.wake();
  const detail = `${existing ? 'address has an account' : 'new address'}${mayMail ? '' : ', mail suppressed (limit)'}`;
  await ctx.audit({ type: 'sign_up_requested', outcome: 'success', userId: existing?.id ?? null, detail });
}

/** `auth.completeRegistration`: the sign-up link plus a password make a verified account, signed in. */
export async function completeSignUp(ctx: Context, token: string, password: string): Promise<SignedIn> {
  await ctx.limits.linkPerIp.consume(ctx.ip);
  const passwordHash = await ctx.passwords.hash(password);
  const user = await linkTransaction(ctx, async () => {
    const link = await consumeLink(ctx, token, 'sign_up');
    // Another link for the same address was used first: refused (rolled back, but useless).
    const created = await insertVerifiedUser(ctx.db, { email: link.email, passwordHash }, ctx.now());
    if (!created) throw invalidLink();
    return created;
  });
  const { sessionId, tokens } = await startSessionOrAskToSignIn(ctx, user, passwordHash);
  await ctx.audit({ type: 'sign_up', outcome: 'success', userId: user.id, sessionId });
  return { user, tokens };
}

/**
 * `auth.requestPasswordReset`: a link for a known address; the same answer for any address.
 *
 * A disabled account gets no link, only a notice that it is disabled: the caller hears the
 * same answer as for any address, after the same work, and the attempt is audited. A reset must not be a way around the disabling,
 * and the link could not sign in anyway; an admin re-enables the account first, then sends
 * a reset (admin.sendPasswordReset) if one is needed.
 */
export async function requestPasswordReset(ctx: Context, email: string) {
  await ctx.limits.mailPerIp.consume(ctx.ip);
  const now = ctx.now();
  const mayMail = await ctx.limits.mayMail(email);
  const account = await ctx.accounts.findByEmail(email);
  const isDisabled = !!account?.disabledAt;
  await ctx.db.transaction(async () => {
    if (!mayMail) return;
    if (isDisabled) {
      // The same work as for the others (a mail in a transaction), and no link: the owner
      // learns why no reset came, and the answer and its timing say nothing.
      await enqueueMail(
        ctx.db,
        { kind: 'password_reset_disabled', data: {}, to: email, userId: account!.id },
        { now, expiresAt: noticeExpiry(now) },
      );
      return;
    }
    if (!account) {
      // The same kind of work as for an account (a mail in a transaction), and a useful hint.
      const data = { signUpUrl: `${ctx.config.appOrigin}/register` };
      await enqueueMail(
        ctx.db,
        { kind: 'password_reset_no_account', data, to: email },
        { now, expiresAt: noticeExpiry(now) },
      );
      return;
    }
    await enqueuePasswordReset(ctx, account, now);
  });
  ctx.mail.wake();
  const detail =
    `${account ? 'address has an account' : 'no account'}` +
    `${!mayMail ? ', mail suppressed (limit)' : isDisabled ? ', account disabled: notice, no link' : ''}`;
  await ctx.audit({ type: 'password_reset_requested', outcome: 'success', userId: account?.id ?? null, detail });
}

/**
 * `admin.sendPasswordReset`: the same link and mail as `auth.requestPasswordReset`, to the
 * user an admin names, audited with the admin's id. The address's mail limit still applies
 * (nobody floods an inbox), and the admin is told when it holds the mail back. A disabled
 * account is refused: re-enable it first (see requestPasswordReset).
 */
export async function sendPasswordResetByAdmin(ctx: Context & { user: { id: string } }, userId: string) {
  const { users } = ctx.db.tables;
  const [account] = await ctx.db
    .select({ id: users.id, email: users.email, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, userId));
  if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such user' });
  if (account.disabledAt) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'This account is disabled: enable it before sending a password reset',
    });
  }
  const event = { type: 'password_reset_requested', userId: account.id } as const;
  if (!(await ctx.limits.mayMail(account.email))) {
    await ctx.audit({ ...event, outcome: 'failure', detail: `by admin ${ctx.user.id}: mail suppressed (limit)` });
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: 'Several mails went to this address recently; try again in a few minutes',
    });
  }
  const now = ctx.now();
  await ctx.db.transaction(async () => enqueuePasswordReset(ctx, account, now));
  ctx.mail.wake();
  await ctx.audit({ ...event, outcome: 'success', detail: `sent by admin ${ctx.user.id}` });
  return { email: account.email };
}

/** A reset link for `account`, and its mail, inside the caller's transaction. A new link kills the previous one. */
async function enqueuePasswordReset(ctx: Context, account: { id: string; email: string }, now: Date) {
  const { email, id: userId } = account;
  const { token, expiresAt } = await ctx.emailTokens.issue({ purpose: 'password_reset', email, userId }, now);
  const data = { link: linkTo(ctx, 'password_reset', token) };
  await enqueueMail(ctx.db, { kind: 'password_reset', data, to: email, userId }, { now, expiresAt });
}

/**
 * `auth.resetPassword`: sets the password, proves the address, ends every session of the
 * user (refused on their very next request) and every other link, then signs in afresh.
 */
export async function resetPassword(
  ctx: Context,
  token: string,
  newPassword: string,
  secondFactor?: SecondFactorProof,
): Promise<SignedIn> {
  await ctx.limits.linkPerIp.consume(ctx.ip);
  await requireSecondFactorOfLinkOwner(ctx, token, secondFactor);
  const passwordHash = await ctx.passwords.hash(newPassword);
  const now = ctx.now();
  const { user, ended } = await linkTransaction(ctx, async () => {
    const { users } = ctx.db.tables;
    const link = await consumeLink(ctx, token, 'password_reset');
    const userId = link.userId!;
    const [user] = await ctx.db
      .update(users)
      .set({ passwordHash, updatedAt: now })
      .where(eq(users.id, userId))
      .returning({
        id: users.id,
        email: users.email,
        role: users.role,
        emailVerifiedAt: users.emailVerifiedAt,
        disabledAt: users.disabledAt,
      });
    // Disabling ends every link, so only a race gets here: refused, and rolled back.
    if (!user || user.disabledAt) throw invalidLink();
    // Opening a link sent to the address proves the address.
    if (!user.emailVerifiedAt) await ctx.db.update(users).set({ emailVerifiedAt: now }).where(eq(users.id, userId));
    await ctx.emailTokens.revokeForUser(userId, now);
    const ended = await ctx.sessions.revokeUserSessions(userId, 'password_changed', now);
    return { user: { id: user.id, email: user.email, role: user.role }, ended };
  });
  await auditEndedSessions(ctx, user.id, ended, 'password_changed');
  const { sessionId, tokens } = await startSessionOrAskToSignIn(ctx, user, passwordHash);
  await ctx.audit({
    type: 'password_reset',
    outcome: 'success',
    userId: user.id,
    sessionId,
    detail: `${ended.length} session(s) ended`,
  });
  return { user, tokens };
}

/**
 * `auth.changePassword` after the current password was checked: the new hash, other
 * sessions and outstanding links end in one transaction.
 */
export async function setNewPassword(ctx: Context & { user: { id: string; sessionId: string } }, passwordHash: string) {
  const now = ctx.now();
  const { users } = ctx.db.tables;
  const ended = await ctx.db.transaction(async () => {
    await ctx.db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, ctx.user.id));
    await ctx.emailTokens.revokeForUser(ctx.user.id, now);
    return await ctx.sessions.revokeUserSessions(ctx.user.id, 'password_changed', now, ctx.user.sessionId);
  });
  await auditEndedSessions(ctx, ctx.user.id, ended, 'password_changed');
  return ended;
}

/**
 * `account.changeEmail` (recent auth): a confirmation link to the new address and a notice
 * to the current one. An address that has an account gets nothing, and the caller hears
 * the same answer: a signed-in user cannot probe which addresses have accounts either.
 */
export async function requestEmailChange(ctx: Context & { user: { id: string } }, newEmail: string) {
  await ctx.limits.mailPerIp.consume(ctx.ip);
  const account = await ctx.accounts.getUser(ctx.user.id);
  if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
  if (account.email === newEmail) throw new TRPCError({ code: 'BAD_REQUEST', message: 'That is already your address' });
  const now = ctx.now();
  const mayMail = await ctx.limits.mayMail(newEmail);
  const isTaken = (await ctx.accounts.findByEmail(newEmail)) !== undefined;
  await ctx.db.transaction(async () => {
    if (!mayMail) return;
    // Issued either way: a new request ends the user's earlier link whether or not the
    // address is taken, so an earlier link cannot reveal which it was.
    const { token, expiresAt } = await ctx.emailTokens.issue(
      { purpose: 'email_change', email: newEmail, userId: account.id },
      now,
    );
    if (!isTaken) {
      const data = { link: linkTo(ctx, 'email_change', token), newEmail };
      await enqueueMail(ctx.db, { kind: 'email_change', data, to: newEmail, userId: account.id }, { now, expiresAt });
    }
    // Always: whether the notice arrives must not tell the asker whether the address is taken.
    await enqueueMail(
      ctx.db,
      { kind: 'email_change_notice', data: { newEmail }, to: account.email, userId: account.id },
      { now, expiresAt: noticeExpiry(now) },
    );
  });
  ctx.mail.wake();
  const detail = isTaken ? 'new address has an account: nothing sent' : mayMail ? undefined : 'mail suppressed (limit)';
  await ctx.audit({ type: 'email_change_requested', outcome: 'success', userId: account.id, detail });
}

/** `account.confirmEmailChange`: the link from the new address switches the account to it. */
export async function confirmEmailChange(ctx: Context, token: string) {
  const now = ctx.now();
  const { users } = ctx.db.tables;
  const changed = await linkTransaction(ctx, async () => {
    const link = await consumeLink(ctx, token, 'email_change');
    // Taken since the link was sent: refused, and the address stays its owner's.
    if (await ctx.accounts.findByEmail(link.email)) throw invalidLink();
    const previous = await ctx.accounts.getUser(link.userId!);
    const [user] = await ctx.db
      .update(users)
      .set({ email: link.email, emailVerifiedAt: now, updatedAt: now })
      .where(eq(users.id, link.userId!))
      .returning({ id: users.id, email: users.email });
    if (!user || !previous) throw invalidLink();
    await ctx.emailTokens.revokeForUser(user.id, now);
    const notice = { kind: 'email_changed', data: {}, to: previous.email, userId: user.id } as const;
    await enqueueMail(ctx.db, notice, { now, expiresAt: noticeExpiry(now) });
    return user;
  });
  ctx.mail.wake();
  await ctx.audit({ type: 'email_changed', outcome: 'success', userId: changed.id });
  return { email: changed.email };
}

/**
 * A reset link alone must not take over an account with a second factor (its mailbox may be
 * what was stolen): the factor is asked for before the link is used or any session ends.
 */
async function requireSecondFactorOfLinkOwner(ctx: Context, token: string, proof: SecondFactorProof | undefined) {
  const userId = await ctx.emailTokens.ownerOf(token, 'password_reset', ctx.now());
  if (!userId || !(await ctx.secondFactors.hasSecondFactor(userId))) return;
  if (!proof) throw toTRPCError(new SecondFactorRequiredError(await secondFactorMethods(ctx, userId)));
  const user = await ctx.accounts.getUser(userId);
  if (user) await requireSecondFactor(ctx, user, proof, 'password_reset', 'BAD_REQUEST');
}

/** Step-up with the authenticator app or a recovery code instead of the password. */
export async function reauthenticateWithSecondFactor(
  ctx: Context & { user: { id: string; sessionId: string } },
  proof: SecondFactorProof,
) {
  const account = await ctx.accounts.getUser(ctx.user.id);
  if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
  if (!(await ctx.secondFactors.hasSecondFactor(account.id))) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'This account has no second factor: confirm with your password',
    });
  }
  const event = { type: 'reauthenticated', userId: ctx.user.id, sessionId: ctx.user.sessionId } as const;
  const wrong = await checkSecondFactor(ctx, account, proof, 'reauthenticate', ctx.user.sessionId);
  if (wrong) {
    await ctx.audit({ ...event, outcome: 'failure', detail: 'wrong second factor' });
    throw new TRPCError({ code: 'BAD_REQUEST', message: wrong });
  }
  await ctx.sessions.markAuthenticated(ctx.user.sessionId, ctx.now());
  await ctx.audit({ ...event, outcome: 'success', detail: 'second factor' });
}

/** `auth.reauthenticate`: the password again, within the per-session limit; renews the proof. */
export async function reauthenticate(ctx: Context & { user: { id: string; sessionId: string } }, password: string) {
  const account = await ctx.accounts.getUser(ctx.user.id);
  if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
  const verified = await ctx.limits.currentPasswordAttempt(ctx.user.sessionId, () =>
    ctx.accounts.verifyCredentials(account.email, password, ctx.now()),
  );
  const event = { type: 'reauthenticated', userId: ctx.user.id, sessionId: ctx.user.sessionId } as const;
  if (!verified) {
    await ctx.audit({ ...event, outcome: 'failure', detail: 'wrong password' });
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'The password is not correct' });
  }
  await ctx.sessions.markAuthenticated(ctx.user.sessionId, ctx.now());
  await ctx.audit({ ...event, outcome: 'success' });
}

/**
 * `account.delete` (recent auth): the user and every session go at once, in the database
 * and in the revocation list; the audit trail stays, without personal data; a goodbye
 * notice goes out.
 */
export async function deleteAccount(ctx: Context & { user: { id: string } }) {
  const now = ctx.now();
  const { users, auditEvents } = ctx.db.tables;
  const account = await ctx.accounts.getUser(ctx.user.id);
  if (!account) throw new TRPCError({ code: 'NOT_FOUND', message: 'The account no longer exists' });
  await ctx.db.transaction(async () => {
    // The same rule as for a role change or disabling: the app always keeps an admin.
    if (account.role === 'admin') {
      const [others] = await ctx.db
        .select({ n: count() })
        .from(users)
        .where(and(eq(users.role, 'admin'), ne(users.id, account.id), isNull(users.disabledAt)));
      if (!others?.n) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: 'The last admin cannot delete their account: make another user an admin first',
        });
      }
    }
    await ctx.sessions.revokeUserSessions(account.id, 'account_deleted', now);
    const scrubbed = { ip: null, userAgent: null, detail: null };
    await ctx.db.update(auditEvents).set(scrubbed).where(eq(auditEvents.userId, account.id));
    // Failed sign-ins name the address they tried rather than the user.
    await ctx.db
      .update(auditEvents)
      .set(scrubbed)
      .where(and(eq(auditEvents.type, 'login'), eq(auditEvents.detail, `email=${account.email}`)));
    await enqueueMail(
      ctx.db,
      { kind: 'account_deleted', data: {}, to: account.email, userId: account.id },
      { now, expiresAt: noticeExpiry(now) },
    );
    // Sessions, refresh tokens and links go by cascade; audit rows keep no user id.
    await ctx.db.delete(users).where(eq(users.id, account.id));
  });
  ctx.mail.wake();
  clearSessionCookies(ctx);
  await ctx.audit({ type: 'account_deleted', outcome: 'success' });
}

/** A refused link: the one answer every bad link gets, and what the audit log hears. */
class RefusedLink extends TRPCError {
  constructor(readonly event?: Omit<AuditEvent, 'at' | 'ip' | 'userAgent'>) {
    super({ code: 'BAD_REQUEST', message: INVALID_LINK });
  }
}
const invalidLink = () => new RefusedLink();

/** Uses up a link inside a linkTransaction, or throws the one answer every bad link gets. */
async function consumeLink(ctx: Context, token: string, purpose: EmailTokenPurpose) {
  const result = await ctx.emailTokens.consume(token, purpose, ctx.now());
  if (result.ok) return result.token;
  const detail = `${purpose}: ${result.reason}`;
  throw new RefusedLink({ type: 'email_token_refused', outcome: 'failure', userId: result.userId, detail });
}

/** A transaction that uses a link: a refusal is audited after the rollback, which would undo the audit. */
async function linkTransaction<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await ctx.db.transaction(fn);
  } catch (error) {
    if (error instanceof RefusedLink && error.event) await ctx.audit(error.event);
    throw error;
  }
}

/**
 * Signs in after a link set the password. A password change or deletion that lands between
 * the commit and the session refuses the session (CredentialsChangedError): the link did its
 * work, so the answer is "sign in", not a 500.
 */
async function startSessionOrAskToSignIn(ctx: Context, user: PublicUser, passwordHash: string) {
  return startSession(ctx, user, passwordHash).catch((error: unknown) => {
    if (!(error instanceof CredentialsChangedError)) throw error;
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your password changed meanwhile; sign in again' });
  });
}
