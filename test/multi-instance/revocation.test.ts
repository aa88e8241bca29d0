// Two real server processes on one database (a SQLite file, or PostgreSQL when the run has
// a server): whatever ends a session or changes a role on instance A is refused on
// instance B within a second, although B asks no database on its access-token path.
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ACCESS_COOKIE } from '../../server/auth/cookies.ts';
import { type TestClient, createClient, randomIp } from '../helpers/client.ts';
import { startSmtpServer, tokenFromLink } from '../helpers/mail.ts';
import { PASSWORD } from '../helpers/users.ts';
import { type Instances, ORIGIN, SHARED_ENGINE, startInstances } from './instances.ts';

const PROPAGATION_BUDGET_MS = 1000;

let instances: Instances;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
const latencies: Record<string, number> = {};

beforeAll(async () => {
  smtp = await startSmtpServer();
  instances = await startInstances(2, { SMTP_URL: smtp.url, MAIL_FROM: 'Test <no-reply@example.com>' });
}, 60_000);

afterAll(async () => {
  await instances?.stop();
  await smtp?.close();
  console.log(`Propagation A → B on ${SHARED_ENGINE} (ms):`, JSON.stringify(latencies));
});

let counter = 0;
/** A device signed in on A, and the same browser's cookies sent to B. */
async function device(email?: string) {
  const address = email ?? `multi-${process.pid}-${counter++}@example.com`;
  if (!email) await instances.addUsers([address]);
  const ip = randomIp();
  const onA = createClient(instances.urls[0]!, ORIGIN, undefined, ip);
  const login = await onA.mutate<{ user: { id: string } }>('auth.login', { email: address, password: PASSWORD });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  const onB = createClient(instances.urls[1]!, ORIGIN, undefined, ip);
  onB.setCookie(ACCESS_COOKIE, onA.cookie(ACCESS_COOKIE)!);
  expect((await onB.query('user.me')).status, 'B accepts the token A issued').toBe(200);
  return { email: address, userId: login.body.result!.data.user.id, onA, onB };
}

/**
 * How long until B refuses `client`'s access token (fails past the budget), counted from
 * A's answer: the action's own time (an argon2 hash, a mail) is not propagation. Asked with
 * user.permissions, which reads no database: only the token and the revocations decide.
 */
async function refusedOnB(name: string, client: TestClient, started: number) {
  for (;;) {
    const res = await client.query('user.permissions');
    const elapsed = performance.now() - started;
    if (res.status === 401) {
      latencies[name] = Math.round(elapsed);
      expect(elapsed).toBeLessThan(PROPAGATION_BUDGET_MS);
      return res.body.error?.data.authError;
    }
    expect(res.status).toBe(200);
    if (elapsed > PROPAGATION_BUDGET_MS * 3) throw new Error(`${name}: B still accepts the token after ${elapsed} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('logout on A: the token is refused on B within 1 s', async () => {
  const { onA, onB } = await device();
  expect((await onA.mutate('auth.logout')).status).toBe(200);
  const started = performance.now();
  expect(await refusedOnB('logout', onB, started)).toBe('revoked_session');
});

test('session.revoke on A (another device): that device is refused on B within 1 s', async () => {
  const phone = await device();
  const laptop = await device(phone.email);
  const sessions = await laptop.onA.query<{ id: string; current: boolean }[]>('session.list');
  const phoneSession = sessions.body.result!.data.find((session) => !session.current)!;
  expect((await laptop.onA.mutate('session.revoke', { id: phoneSession.id })).status).toBe(200);
  const started = performance.now();
  expect(await refusedOnB('session.revoke', phone.onB, started)).toBe('revoked_session');
});

test('password change on A: the other sessions are refused on B within 1 s', async () => {
  const phone = await device();
  const laptop = await device(phone.email);
  const changed = await laptop.onA.mutate('auth.changePassword', {
    currentPassword: PASSWORD,
    newPassword: 'another long passphrase 42',
  });
  expect(changed.status, JSON.stringify(changed.body)).toBe(200);
  const started = performance.now();
  expect(await refusedOnB('password change', phone.onB, started)).toBe('revoked_session');
});

test('password reset on A: every session is refused on B within 1 s', async () => {
  const phone = await device();
  const stranger = createClient(instances.urls[0]!, ORIGIN);
  expect((await stranger.mutate('auth.requestPasswordReset', { email: phone.email })).status).toBe(200);
  const deadline = Date.now() + 10_000;
  let mail: (typeof smtp.received)[number] | undefined;
  while (!(mail = smtp.received.find((m) => m.envelope.to.includes(phone.email))) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(mail, 'the reset mail arrived').toBeDefined();
  const token = tokenFromLink(/https?:\/\/\S+/.exec(mail!.text ?? '')?.[0] ?? null);
  const reset = await stranger.mutate('auth.resetPassword', { token, newPassword: 'a brand new passphrase 7' });
  expect(reset.status, JSON.stringify(reset.body)).toBe(200);
  const started = performance.now();
  expect(await refusedOnB('password reset', phone.onB, started)).toBe('revoked_session');
});

test('role change on A: the token with the old role is refused on B within 1 s', async () => {
  const adminEmail = `admin-${process.pid}-${counter++}@example.com`;
  await instances.addUsers([adminEmail], 'admin');
  const admin = await device(adminEmail);
  const target = `demoted-${process.pid}-${counter++}@example.com`;
  await instances.addUsers([target], 'admin');
  const demoted = await device(target);
  const res = await admin.onA.mutate('admin.setRole', { userId: demoted.userId, role: 'user' });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const started = performance.now();
  expect(await refusedOnB('role change', demoted.onB, started)).toBe('expired_token');
  // And the demoted admin's stale token cannot act as an admin on B meanwhile.
  expect((await demoted.onB.mutate('admin.setRole', { userId: demoted.userId, role: 'admin' })).status).toBe(401);
});

test('disabling on A: the account is refused on B within 1 s', async () => {
  const adminEmail = `admin-${process.pid}-${counter++}@example.com`;
  await instances.addUsers([adminEmail], 'admin');
  const admin = await device(adminEmail);
  const user = await device();
  expect((await admin.onA.mutate('admin.setDisabled', { userId: user.userId, disabled: true })).status).toBe(200);
  const started = performance.now();
  expect(await refusedOnB('disable', user.onB, started)).toBe('revoked_session');
});

test('account deletion on A: its tokens are refused on B within 1 s', async () => {
  const user = await device();
  const res = await user.onA.mutate('account.delete');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const started = performance.now();
  expect(await refusedOnB('account deletion', user.onB, started)).toBe('revoked_session');
});

test.skipIf(SHARED_ENGINE !== 'postgres')(
  'PostgreSQL: a revocation made while the listening connections were down reaches B by the catch-up on reconnect',
  async () => {
    const user = await device();
    const admin = new pg.Client({ connectionString: instances.databaseUrl });
    await admin.connect();
    try {
      // Cut every instance's LISTEN connection: a NOTIFY sent before it reconnects is lost.
      const cut = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'listen:%'",
      );
      expect(cut.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    expect((await user.onA.mutate('auth.logout')).status).toBe(200);
    const started = performance.now();
    expect(await refusedOnB('logout while disconnected', user.onB, started)).toBe('revoked_session');
  },
);
