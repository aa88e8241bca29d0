// Admin tools over real HTTP: the users list (search, order, paging), disabling an account
// (every session ends at once, sign-in is refused exactly like a wrong password, nobody
// locks the admins out), ending sessions, sending a password reset, the audit rows each
// action leaves, and a plain user refused on every admin procedure.
import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { expect, test, vi } from 'vitest';
import { INVALID_LINK } from '../../../server/auth/account-lifecycle.ts';
import type { AuditEventType } from '../../../server/auth/audit-log.ts';
import { insertVerifiedUser } from '../../../server/auth/accounts.ts';
import { appRouter } from '../../../server/routers/_app.ts';
import { type CallResult, createClient } from '../../helpers/client.ts';
import { mailsTo, nextMailTo, tokenFromLink } from '../../helpers/mail.ts';
import { createClock, startServersPerTest } from '../../helpers/server.ts';
import { TIMING_BAND, timingRatios } from '../../helpers/timing.ts';
import { PASSWORD, createUser } from '../../helpers/users.ts';
import { comparableHeaders } from '../../helpers/outcome.ts';

const start = startServersPerTest();
type Server = Awaited<ReturnType<typeof start>>;

interface AdminUser {
  id: string;
  email: string;
  role: string;
  createdAt: string;
  disabledAt: string | null;
  emailVerifiedAt: string | null;
}
interface UserPage {
  users: AdminUser[];
  nextCursor: string | null;
}

const tag = () => randomBytes(4).toString('hex');
const clientOf = (server: Server) => createClient(server.url, server.config.appOrigin);
const signIn = (server: Server, email: string, password = PASSWORD) =>
  clientOf(server).mutate('auth.login', { email, password });
const comparable = (h: Headers) => comparableHeaders(h);
const auditRows = (server: Server, userId: string, type?: AuditEventType) => {
  const { auditEvents } = server.db.tables;
  return server.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.userId, userId), type ? eq(auditEvents.type, type) : undefined))
    .orderBy(auditEvents.id);
};
const sessionsOf = (server: Server, userId: string) => {
  const { sessions } = server.db.tables;
  return server.db.select().from(sessions).where(eq(sessions.userId, userId));
};
const usersWithId = (server: Server, id: string) => {
  const { users } = server.db.tables;
  return server.db.select().from(users).where(eq(users.id, id));
};

function expectRevoked(res: CallResult) {
  expect(res.status).toBe(401);
  expect(res.body.error?.data.authError).toBe('revoked_session');
}

/** An answer to a sign-in, as a caller sees it: everything but the date. */
const answer = (res: CallResult) => ({
  status: res.status,
  body: res.body,
  headers: comparable(res.headers),
  setCookies: res.setCookies,
});

/** Every page of admin.listUsers for `input`, following nextCursor. */
async function allPages(client: ReturnType<typeof clientOf>, input: Record<string, unknown>) {
  const pages: UserPage[] = [];
  let cursor: string | undefined;
  do {
    const res = await client.query<UserPage>('admin.listUsers', { ...input, ...(cursor && { cursor }) });
    expect(res.status).toBe(200);
    pages.push(res.body.result!.data);
    cursor = res.body.result!.data.nextCursor ?? undefined;
  } while (cursor && pages.length < 20);
  return pages;
}

// ---------------------------------------------------------------- the users list

test('listUsers finds addresses by a substring in any case, taking % and _ literally', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const t = tag();
  // Inserted as stored (lower-cased): `_` and `%` are LIKE's wildcards, and RFC 5321 allows
  // both in an address (`%` only here: the sign-up form's check is stricter).
  const now = new Date();
  for (const email of [`a_b-${t}@example.com`, `axb-${t}@example.com`, `100%-${t}@example.com`, `1000-${t}@x.org`]) {
    await insertVerifiedUser(server.db, { email, passwordHash: 'unused' }, now);
  }
  const search = async (text: string) =>
    (await admin.client.query<UserPage>('admin.listUsers', { search: text })).body
      .result!.data.users.map((u) => u.email)
      .sort();
  expect(await search(`A_B-${t.toUpperCase()}`)).toEqual([`a_b-${t}@example.com`]);
  expect(await search(`x`)).toContain(`axb-${t}@example.com`);
  expect(await search(`100%-${t}`)).toEqual([`100%-${t}@example.com`]);
  expect(await search(`%-${t}`)).toEqual([`100%-${t}@example.com`]);
  expect(await search(`_`)).toEqual([`a_b-${t}@example.com`]);
  expect(await search(`${t}@X.ORG`)).toEqual([`1000-${t}@x.org`]);
  expect(await search(`nobody-${t}`)).toEqual([]);
});

test('listUsers pages newest first (ties broken by id) and by e-mail, without gaps or repeats', async () => {
  const clock = createClock();
  const server = await start({ clock });
  const admin = await createUser(server, { role: 'admin', clock });
  const t = tag();
  const created: string[] = [];
  for (let i = 0; i < 7; i++) {
    // Three pairs share a creation time: the cursor must not skip or repeat either.
    if (i % 2 === 0) clock.advance(1);
    const email = `page-${t}-${'gcaefdb'[i]}@example.com`;
    await createUser(server, { email, clock });
    created.push(email);
  }

  const newest = await allPages(admin.client, { search: `page-${t}`, limit: 2 });
  expect(newest.map((p) => p.users.length)).toEqual([2, 2, 2, 1]);
  expect(newest.at(-1)!.nextCursor).toBeNull();
  const rows = newest.flatMap((p) => p.users);
  expect(rows.map((u) => u.email).sort()).toEqual([...created].sort());
  const times = rows.map((u) => Date.parse(u.createdAt));
  expect(times).toEqual([...times].sort((a, b) => b - a));

  const byEmail = (await allPages(admin.client, { search: `page-${t}`, limit: 3, order: 'email' })).flatMap(
    (p) => p.users,
  );
  expect(byEmail.map((u) => u.email)).toEqual([...created].sort());
});

test('listUsers returns the account state and public fields only, with or without input', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  for (const input of [undefined, {}]) {
    const res = await admin.client.query<UserPage>('admin.listUsers', input);
    expect(res.status).toBe(200);
    expect(res.body.result!.data.nextCursor).toBeNull();
    const [row] = res.body.result!.data.users;
    expect(Object.keys(row!).sort()).toEqual([
      'createdAt',
      'disabledAt',
      'email',
      'emailVerifiedAt',
      'id',
      'role',
      'secondFactor',
    ]);
    expect(row).toMatchObject({ id: admin.user.id, role: 'admin', disabledAt: null });
    expect(row!.emailVerifiedAt).not.toBeNull();
  }
  const bad = await admin.client.query('admin.listUsers', { cursor: 'not a cursor' });
  expect(bad.status).toBe(400);
  expect((await admin.client.query('admin.listUsers', { limit: 101 })).status).toBe(400);
});

// ---------------------------------------------------------------- disabling

test('disabling ends every session at once: access tokens and refresh are refused on the next request', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  const laptop = clientOf(server);
  expect((await laptop.mutate('auth.login', { email: target.email, password: PASSWORD })).status).toBe(200);
  for (const device of [target.client, laptop]) expect((await device.query('user.me')).status).toBe(200);

  const res = await admin.client.mutate<{ user: AdminUser; endedSessions: number }>('admin.setDisabled', {
    userId: target.user.id,
    disabled: true,
  });
  expect(res.status).toBe(200);
  expect(res.body.result!.data.endedSessions).toBe(2);
  expect(res.body.result!.data.user.disabledAt).not.toBeNull();

  for (const device of [target.client, laptop]) {
    expectRevoked(await device.query('user.me'));
    expectRevoked(await device.mutate('auth.refresh'));
  }
  const rows = await sessionsOf(server, target.user.id);
  expect(rows.map((s) => s.revokedReason)).toEqual(['account_disabled', 'account_disabled']);
  // Someone else's session is untouched.
  expect((await admin.client.query('user.me')).status).toBe(200);
});

test("a disabled account's sign-in is refused with exactly a wrong password's answer, and re-enabling lets it in", async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const disabled = await createUser(server);
  const enabled = await createUser(server);
  const verify = vi.spyOn(server.services.passwords, 'verify');
  await admin.client.mutate('admin.setDisabled', { userId: disabled.user.id, disabled: true });

  const rightPassword = await signIn(server, disabled.email);
  const wrongPassword = await signIn(server, enabled.email, 'not the password');
  const wrongOnDisabled = await signIn(server, disabled.email, 'not the password');
  const unknown = await signIn(server, `nobody-${tag()}@example.com`);
  expect(rightPassword.status).toBe(401);
  expect(answer(rightPassword)).toEqual(answer(wrongPassword));
  expect(answer(wrongOnDisabled)).toEqual(answer(wrongPassword));
  expect(answer(unknown)).toEqual(answer(wrongPassword));
  expect(rightPassword.setCookies).toEqual([]);
  // The same work: one password hash verified for each.
  expect(verify).toHaveBeenCalledTimes(4);
  verify.mockRestore();
  expect(await sessionsOf(server, disabled.user.id)).toHaveLength(1);
  // Refused by the password check itself (so a right password counts as a failed attempt),
  // not only by createSession behind it.
  expect(await server.services.accounts.verifyCredentials(disabled.email, PASSWORD, new Date())).toBeNull();

  const res = await admin.client.mutate<{ user: AdminUser }>('admin.setDisabled', {
    userId: disabled.user.id,
    disabled: false,
  });
  expect(res.status).toBe(200);
  expect(res.body.result!.data.user.disabledAt).toBeNull();
  const again = clientOf(server);
  expect((await again.mutate('auth.login', { email: disabled.email, password: PASSWORD })).status).toBe(200);
  expect((await again.query('user.me')).status).toBe(200);
  // The sessions it had stay ended.
  expectRevoked(await disabled.client.query('user.me'));
});

test('a disabled account with the right password takes as long as a wrong password (no timing oracle)', async () => {
  // Costly enough (~50 ms a hash) that a skipped hash would stand out on a noisy machine.
  const server = await start({ vars: { ARGON2_MEMORY_KIB: '32768', ARGON2_TIME_COST: '2' } });
  const admin = await createUser(server, { role: 'admin' });
  const disabled = await createUser(server);
  const enabled = await createUser(server);
  await admin.client.mutate('admin.setDisabled', { userId: disabled.user.id, disabled: true });
  const ratios = await timingRatios(
    () => signIn(server, enabled.email, 'not the password'),
    () => signIn(server, disabled.email),
    { n: 7 },
  );
  const said = `ratios of medians (disabled / wrong password) per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}`;
  expect(ratios.at(-1), said).toBeGreaterThan(TIMING_BAND.min);
  expect(ratios.at(-1), said).toBeLessThan(TIMING_BAND.max);
});

test('a sign-in whose password check was under way when the account was disabled gets no session', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  const verify = server.services.passwords.verify.bind(server.services.passwords);
  let release!: () => void;
  const checking = new Promise<void>((resolve) => {
    const spy = vi.spyOn(server.services.passwords, 'verify').mockImplementationOnce(async (...args) => {
      resolve();
      await new Promise<void>((go) => (release = go));
      spy.mockRestore();
      return verify(...args);
    });
  });
  const login = signIn(server, target.email);
  await checking;
  expect((await admin.client.mutate('admin.setDisabled', { userId: target.user.id, disabled: true })).status).toBe(200);
  release();
  const refused = await login;
  expect(answer(refused)).toEqual(answer(await signIn(server, target.email, 'not the password')));
  const live = await sessionsOf(server, target.user.id);
  expect(live.every((s) => s.revokedAt !== null)).toBe(true);
});

test('disabling ends outstanding e-mailed links, and a disabled account is sent no reset link, only a notice (same answer)', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  expect((await clientOf(server).mutate('auth.requestPasswordReset', { email: target.email })).status).toBe(200);
  const token = tokenFromLink((await nextMailTo(server, target.email)).link);
  await admin.client.mutate('admin.setDisabled', { userId: target.user.id, disabled: true });

  const used = await clientOf(server).mutate('auth.resetPassword', { token, newPassword: 'a fresh long password' });
  expect(used.status).toBe(400);
  expect(used.body.error?.message).toBe(INVALID_LINK);

  const known = await clientOf(server).mutate('auth.requestPasswordReset', { email: target.email });
  const unknown = await clientOf(server).mutate('auth.requestPasswordReset', { email: `nobody-${tag()}@example.com` });
  expect(known.status).toBe(200);
  expect(known.body).toEqual(unknown.body);
  expect(comparable(known.headers)).toEqual(comparable(unknown.headers));
  // The first mail (before disabling) had a link; the second says why there is none.
  const mails = await mailsTo(server, target.email);
  expect(mails).toHaveLength(2);
  expect(mails[1]?.text).toContain('an administrator has disabled it, so no reset link was sent');
  expect(mails[1]?.link).toBeNull();
  expect((await auditRows(server, target.user.id, 'password_reset_requested')).at(-1)?.detail).toBe(
    'address has an account, account disabled: notice, no link',
  );
});

test('an admin cannot disable themselves, nor the last enabled admin; a disabled admin does not count', async () => {
  const server = await start();
  const first = await createUser(server, { role: 'admin' });
  const self = await first.client.mutate('admin.setDisabled', { userId: first.user.id, disabled: true });
  expect(self.status).toBe(400);
  expect(self.body.error?.message).toBe('You cannot disable your own account');
  expect((await first.client.query('user.me')).status).toBe(200);

  // Only reachable when the caller is not itself an enabled admin (a race, or a future role
  // holding user:update:any): simulated by marking the caller disabled behind its back.
  const second = await createUser(server, { role: 'admin' });
  const { users } = server.db.tables;
  await server.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, first.user.id));
  const last = await first.client.mutate('admin.setDisabled', { userId: second.user.id, disabled: true });
  expect(last.status).toBe(400);
  expect(last.body.error?.message).toBe('The last enabled admin cannot be disabled');
  // …nor demote them: a disabled admin cannot act, so the last enabled one keeps the role.
  const demote = await second.client.mutate('admin.setRole', { userId: second.user.id, role: 'user' });
  expect(demote.status).toBe(400);
  expect(demote.body.error?.message).toBe('The last admin cannot lose the admin role');
  expect((await second.client.query('user.me')).status).toBe(200);

  expect((await first.client.mutate('admin.setDisabled', { userId: 'nobody', disabled: true })).status).toBe(404);
});

test('two admins disabling each other at the same moment: one wins, an enabled admin remains', async () => {
  const server = await start();
  const a = await createUser(server, { role: 'admin' });
  const b = await createUser(server, { role: 'admin' });
  const results = await Promise.all([
    a.client.mutate('admin.setDisabled', { userId: b.user.id, disabled: true }),
    b.client.mutate('admin.setDisabled', { userId: a.user.id, disabled: true }),
  ]);
  expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  const { users } = server.db.tables;
  const enabledAdmins = (await server.db.select().from(users).where(eq(users.role, 'admin'))).filter(
    (u) => !u.disabledAt,
  );
  expect(enabledAdmins).toHaveLength(1);
});

test('disabling twice, or enabling an enabled account, changes nothing and audits nothing', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  const enable = await admin.client.mutate<{ endedSessions: number }>('admin.setDisabled', {
    userId: target.user.id,
    disabled: false,
  });
  expect(enable.body.result?.data.endedSessions).toBe(0);
  expect((await target.client.query('user.me')).status).toBe(200);
  await admin.client.mutate('admin.setDisabled', { userId: target.user.id, disabled: true });
  const again = await admin.client.mutate<{ endedSessions: number }>('admin.setDisabled', {
    userId: target.user.id,
    disabled: true,
  });
  expect(again.body.result?.data.endedSessions).toBe(0);
  expect(await auditRows(server, target.user.id, 'user_disabled')).toHaveLength(1);
  expect(await auditRows(server, target.user.id, 'user_enabled')).toHaveLength(0);
});

// ---------------------------------------------------------------- audit

test("disabling, enabling and ending sessions are audited with the admin's id, and the log filters by e-mail", async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  const by = `by admin ${admin.user.id}`;
  await admin.client.mutate('admin.setDisabled', { userId: target.user.id, disabled: true });
  await admin.client.mutate('admin.setDisabled', { userId: target.user.id, disabled: false });
  // No session is live now: the action is on record all the same.
  await admin.client.mutate('admin.revokeUserSessions', { userId: target.user.id });

  const rows = (await auditRows(server, target.user.id)).filter((e) => e.type !== 'login');
  expect(rows.map((e) => [e.type, e.outcome, e.detail])).toEqual([
    ['session_revoked', 'success', `account_disabled ${by}`],
    ['user_disabled', 'success', `${by}, 1 session(s) ended`],
    ['user_enabled', 'success', by],
    ['session_revoked', 'success', `none live, ${by}`],
  ]);
  // From the admin's device.
  expect(rows.every((e) => e.userAgent === 'test-client' && e.ip)).toBe(true);

  type Page = {
    events: { type: string; userId: string | null; userEmail: string | null }[];
    nextCursor: number | null;
  };
  const byEmail = await admin.client.query<Page>('admin.auditEvents', {
    email: ` ${target.email.toUpperCase()} `,
    type: 'user_disabled',
  });
  expect(byEmail.body.result!.data.events.map((e) => [e.type, e.userId, e.userEmail])).toEqual([
    ['user_disabled', target.user.id, target.email],
  ]);
  // An address nobody uses and nobody tried: nothing.
  const nobody = await admin.client.query<Page>('admin.auditEvents', { email: `nobody-${tag()}@example.com` });
  expect(nobody.body.result!.data).toEqual({ events: [], nextCursor: null });
  const mismatch = await admin.client.query<Page>('admin.auditEvents', {
    email: target.email,
    userId: admin.user.id,
  });
  expect(mismatch.body.result!.data.events).toEqual([]);
});

test('filtering the audit log by e-mail shows the failed sign-ins at that address, known or not', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  const stranger = `nobody-${tag()}@example.com`;
  await signIn(server, target.email, 'a wrong guess');
  await signIn(server, stranger, 'a wrong guess');
  type Page = { events: { type: string; outcome: string; userId: string | null }[] };
  const known = await admin.client.query<Page>('admin.auditEvents', { email: target.email, type: 'login' });
  expect(known.body.result!.data.events.map((e) => [e.outcome, e.userId])).toEqual([
    ['failure', null],
    ['success', target.user.id],
  ]);
  const unknown = await admin.client.query<Page>('admin.auditEvents', { email: stranger });
  expect(unknown.body.result!.data.events.map((e) => [e.type, e.outcome])).toEqual([['login', 'failure']]);
});

// ---------------------------------------------------------------- password reset

test('sendPasswordReset mails the user the reset link, which works, and is audited with the admin id', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  const res = await admin.client.mutate('admin.sendPasswordReset', { userId: target.user.id });
  expect(res.status).toBe(200);
  expect(res.body.result?.data).toEqual({ email: target.email });

  const mail = await nextMailTo(server, target.email);
  expect(mail.subject).toMatch(/Reset your password/);
  expect(mail.link).toMatch(new RegExp(`^${server.config.appOrigin}/reset-password#token=[\\w-]{43}$`));
  const newPassword = 'a fresh long password';
  const reset = await clientOf(server).mutate('auth.resetPassword', { token: tokenFromLink(mail.link), newPassword });
  expect(reset.status).toBe(200);
  expectRevoked(await target.client.query('user.me'));
  expect((await signIn(server, target.email, newPassword)).status).toBe(200);

  const requested = await auditRows(server, target.user.id, 'password_reset_requested');
  expect(requested.map((e) => [e.outcome, e.detail])).toEqual([['success', `sent by admin ${admin.user.id}`]]);
});

test('sendPasswordReset refuses a disabled account and an unknown user, and respects the mail limit', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const target = await createUser(server);
  expect((await admin.client.mutate('admin.sendPasswordReset', { userId: 'nobody' })).status).toBe(404);

  await admin.client.mutate('admin.setDisabled', { userId: target.user.id, disabled: true });
  const refused = await admin.client.mutate('admin.sendPasswordReset', { userId: target.user.id });
  expect(refused.status).toBe(400);
  expect(refused.body.error?.message).toMatch(/disabled: enable it/);
  expect(await mailsTo(server, target.email)).toEqual([]);

  await admin.client.mutate('admin.setDisabled', { userId: target.user.id, disabled: false });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await admin.client.mutate('admin.sendPasswordReset', { userId: target.user.id })).status);
  }
  expect(statuses).toEqual([200, 200, 200, 429]);
  expect(await mailsTo(server, target.email)).toHaveLength(3);
});

// ---------------------------------------------------------------- who may

test('a plain user gets 403 insufficient_permission on every admin procedure, and nothing changes', async () => {
  const server = await start();
  const admin = await createUser(server, { role: 'admin' });
  const user = await createUser(server);
  const target = { userId: admin.user.id };
  const calls: Record<string, ['query' | 'mutate', unknown]> = {
    'admin.listUsers': ['query', {}],
    'admin.setRole': ['mutate', { ...target, role: 'user' }],
    'admin.setDisabled': ['mutate', { ...target, disabled: true }],
    'admin.revokeUserSessions': ['mutate', target],
    'admin.sendPasswordReset': ['mutate', target],
    'admin.removeSecondFactor': ['mutate', target],
    'admin.auditEvents': ['query', {}],
  };
  const adminPaths = Object.keys(appRouter._def.procedures).filter((path) => path.startsWith('admin.'));
  expect(Object.keys(calls).sort()).toEqual(adminPaths.sort());
  for (const [path, [kind, input]] of Object.entries(calls)) {
    const res = await user.client[kind](path, input);
    expect(res.status, path).toBe(403);
    expect(res.body.error?.data.authError, path).toBe('insufficient_permission');
  }
  expect((await admin.client.query('user.me')).body.result?.data).toMatchObject({ role: 'admin' });
  expect((await usersWithId(server, admin.user.id))[0]?.disabledAt).toBeNull();
  expect(await mailsTo(server, admin.email)).toEqual([]);
});

test('the last enabled admin cannot delete their own account; with another admin, they can', async () => {
  const server = await start();
  const only = await createUser(server, { role: 'admin' });
  await only.client.mutate('auth.reauthenticate', { password: PASSWORD });
  const refused = await only.client.mutate('account.delete');
  expect(refused.status).toBe(400);
  expect(refused.body.error?.message).toBe(
    'The last admin cannot delete their account: make another user an admin first',
  );
  expect((await only.client.query('user.me')).status).toBe(200);

  await createUser(server, { role: 'admin' });
  expect((await only.client.mutate('account.delete')).status).toBe(200);
  expect(await usersWithId(server, only.user.id)).toEqual([]);
});

test('an audit cursor beyond 32 bits is a 400, on every engine (PostgreSQL event ids are 32-bit)', async () => {
  const server = await start();
  const { client } = await createUser(server, { role: 'admin' });
  for (const before of [2 ** 31, 1e300]) {
    const res = await client.query('admin.auditEvents', { before });
    expect(res.status).toBe(400);
    expect(res.body.error?.data.code).toBe('BAD_REQUEST');
  }
  expect((await client.query('admin.auditEvents', { before: 2 ** 31 - 1 })).status).toBe(200);
});
