// The tokens in e-mailed links, against a real (in-memory) database: stored only as a
// SHA-256, single use, one purpose each, short lived, superseded by a
// newer link of the same purpose and owner, ended with the user's credentials, pruned.
import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterEach, expect, test } from 'vitest';
import type { Db } from '../../../db/client.ts';
import { createEmailTokens } from '../../../server/auth/email-tokens.ts';
import { openTestDatabase } from '../../helpers/database.ts';

const TTL = { sign_up: 86_400, password_reset: 3600, email_change: 1800 };
const T0 = new Date('2030-01-01T00:00:00Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const opened: Db[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

async function setup() {
  const db = await openTestDatabase();
  opened.push(db);
  const { emailTokens, users } = db.tables;
  const links = createEmailTokens(db, TTL);
  const newUser = async () => {
    const email = `${randomBytes(4).toString('hex')}@example.com`;
    const [user] = await db.insert(users).values({ email, passwordHash: 'unused' }).returning({ id: users.id });
    return { id: user!.id, email };
  };
  const rows = () => db.select().from(emailTokens);
  return { db, links, newUser, rows };
}

test('a token is 32 random bytes as 43 base64url characters, and only its SHA-256 is stored', async () => {
  const { db, links, newUser, rows } = await setup();
  const user = await newUser();
  const { token } = await links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  const [row] = await rows();
  expect(row?.tokenHash).toBe(createHash('sha256').update(token).digest('base64url'));
  // The token itself is in no column of the table (nor is any row holding it).
  const dump = JSON.stringify(await db.select().from(db.tables.emailTokens));
  expect(dump).not.toContain(token);
  // Two tokens are never alike.
  const other = (await links.issue({ purpose: 'sign_up', email: 'new@example.com', userId: null }, T0)).token;
  expect(other).not.toBe(token);
});

test('a token expires after its purpose’s lifetime', async () => {
  const { links, newUser } = await setup();
  const user = await newUser();
  for (const purpose of ['sign_up', 'password_reset', 'email_change'] as const) {
    const userId = purpose === 'sign_up' ? null : user.id;
    const issued = await links.issue({ purpose, email: user.email, userId }, T0);
    expect(issued.expiresAt).toEqual(later(TTL[purpose]));
  }
});

test('consume uses a token once: the second use is refused as used', async () => {
  const { links, newUser } = await setup();
  const user = await newUser();
  const { token } = await links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  const first = await links.consume(token, 'password_reset', later(1));
  expect(first).toMatchObject({ ok: true, token: { userId: user.id, email: user.email, purpose: 'password_reset' } });
  expect(await links.consume(token, 'password_reset', later(2))).toEqual({
    ok: false,
    reason: 'used',
    userId: user.id,
  });
});

test('a consume rolled back with its transaction gives the link back', async () => {
  const { db, links, newUser } = await setup();
  const user = await newUser();
  const { token } = await links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  await expect(
    db.transaction(async () => {
      expect((await links.consume(token, 'password_reset', later(1))).ok).toBe(true);
      throw new Error('the action failed');
    }),
  ).rejects.toThrow('the action failed');
  expect((await links.consume(token, 'password_reset', later(2))).ok).toBe(true);
});

test('a token is good for its own purpose only', async () => {
  const { links, newUser } = await setup();
  const user = await newUser();
  const reset = (await links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0)).token;
  const signUp = (await links.issue({ purpose: 'sign_up', email: 'new@example.com', userId: null }, T0)).token;
  const change = (await links.issue({ purpose: 'email_change', email: 'next@example.com', userId: user.id }, T0)).token;
  expect(await links.consume(reset, 'sign_up', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  expect(await links.consume(reset, 'email_change', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  expect(await links.consume(signUp, 'password_reset', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  expect(await links.consume(change, 'password_reset', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  // Refused for the wrong purpose, each still works for its own.
  expect((await links.consume(reset, 'password_reset', later(1))).ok).toBe(true);
  expect((await links.consume(signUp, 'sign_up', later(1))).ok).toBe(true);
  expect((await links.consume(change, 'email_change', later(1))).ok).toBe(true);
});

test('an expired token is refused as expired, a moment before expiry it works', async () => {
  const { links, newUser } = await setup();
  const user = await newUser();
  const target = { purpose: 'password_reset', email: user.email, userId: user.id } as const;
  const { token, expiresAt } = await links.issue(target, T0);
  expect(await links.consume(token, 'password_reset', expiresAt)).toMatchObject({ ok: false, reason: 'expired' });
  expect(await links.consume(token, 'password_reset', later(TTL.password_reset + 3600))).toMatchObject({
    ok: false,
    reason: 'expired',
  });
  const fresh = (await links.issue(target, T0)).token;
  expect((await links.consume(fresh, 'password_reset', new Date(expiresAt.getTime() - 1))).ok).toBe(true);
});

test('unknown and malformed tokens are refused as unknown', async () => {
  const { links } = await setup();
  expect(await links.consume(randomBytes(32).toString('base64url'), 'sign_up', T0)).toMatchObject({
    ok: false,
    reason: 'unknown',
  });
  for (const token of ['', 'short', `${'a'.repeat(43)}=`, "' OR 1=1 --".padEnd(43, 'x'), 'a'.repeat(44)]) {
    expect(await links.consume(token, 'sign_up', T0), token).toMatchObject({ ok: false, reason: 'unknown' });
  }
});

test('a new token supersedes the earlier unused ones of the same purpose and user, and no others', async () => {
  const { links, newUser } = await setup();
  const ada = await newUser();
  const bob = await newUser();
  const adaReset1 = (await links.issue({ purpose: 'password_reset', email: ada.email, userId: ada.id }, T0)).token;
  const adaChange = (await links.issue({ purpose: 'email_change', email: 'ada2@example.com', userId: ada.id }, T0))
    .token;
  const bobReset = (await links.issue({ purpose: 'password_reset', email: bob.email, userId: bob.id }, T0)).token;
  const adaReset2 = (await links.issue({ purpose: 'password_reset', email: ada.email, userId: ada.id }, later(1)))
    .token;

  expect(await links.consume(adaReset1, 'password_reset', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect((await links.consume(adaReset2, 'password_reset', later(2))).ok).toBe(true);
  expect((await links.consume(adaChange, 'email_change', later(2))).ok).toBe(true); // another purpose
  expect((await links.consume(bobReset, 'password_reset', later(2))).ok).toBe(true); // another user
});

test('a new sign-up token supersedes the earlier ones for the same address, and no others', async () => {
  const { links } = await setup();
  const first = (await links.issue({ purpose: 'sign_up', email: 'ada@example.com', userId: null }, T0)).token;
  const other = (await links.issue({ purpose: 'sign_up', email: 'bob@example.com', userId: null }, T0)).token;
  const second = (await links.issue({ purpose: 'sign_up', email: 'ada@example.com', userId: null }, later(1))).token;
  expect(await links.consume(first, 'sign_up', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect((await links.consume(second, 'sign_up', later(2))).ok).toBe(true);
  expect((await links.consume(other, 'sign_up', later(2))).ok).toBe(true);
});

test('revokeForUser ends every outstanding token of the user, whatever the purpose, and no one else’s', async () => {
  const { links, newUser } = await setup();
  const ada = await newUser();
  const bob = await newUser();
  const reset = (await links.issue({ purpose: 'password_reset', email: ada.email, userId: ada.id }, T0)).token;
  const change = (await links.issue({ purpose: 'email_change', email: 'ada2@example.com', userId: ada.id }, T0)).token;
  const bobs = (await links.issue({ purpose: 'password_reset', email: bob.email, userId: bob.id }, T0)).token;
  await links.revokeForUser(ada.id, later(1));
  expect(await links.consume(reset, 'password_reset', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect(await links.consume(change, 'email_change', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect((await links.consume(bobs, 'password_reset', later(2))).ok).toBe(true);
});

test('prune deletes expired tokens, used or not, and keeps the live ones (a replay is audited as used until expiry)', async () => {
  const { db, links, newUser, rows } = await setup();
  const user = await newUser();
  const short = await links.issue({ purpose: 'email_change', email: 'x@example.com', userId: user.id }, T0);
  const used = await links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  await links.consume(used.token, 'password_reset', later(1));
  const long = await links.issue({ purpose: 'sign_up', email: 'y@example.com', userId: null }, T0);

  expect(await links.prune(later(1))).toBe(0);
  expect(await links.consume(used.token, 'password_reset', later(2))).toMatchObject({ reason: 'used' });

  expect(await links.prune(later(TTL.password_reset + 1))).toBe(2);
  expect((await rows()).map((r) => r.purpose)).toEqual(['sign_up']);
  expect(await links.consume(short.token, 'email_change', later(TTL.password_reset + 2))).toMatchObject({
    reason: 'unknown',
  });
  expect((await links.consume(long.token, 'sign_up', later(TTL.password_reset + 2))).ok).toBe(true);
  const { emailTokens } = db.tables;
  const [signUp] = await db.select().from(emailTokens).where(eq(emailTokens.purpose, 'sign_up'));
  expect(signUp?.usedAt).not.toBeNull();
});

test('a user’s tokens go with the user', async () => {
  const { db, links, newUser, rows } = await setup();
  const user = await newUser();
  await links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  const { users } = db.tables;
  await db.delete(users).where(eq(users.id, user.id));
  expect(await rows()).toEqual([]);
});
