// The tokens in e-mailed links, against a real (in-memory) database: stored only as a
// SHA-256, single use, one purpose each, short lived, superseded by a
// newer link of the same purpose and owner, ended with the user's credentials, pruned.
import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { migrateDatabase } from '../../../db/migrate.ts';
import { emailTokens, users } from '../../../db/schema.ts';
import { createEmailTokens } from '../../../server/auth/email-tokens.ts';

const TTL = { sign_up: 86_400, password_reset: 3600, email_change: 1800 };
const T0 = new Date('2030-01-01T00:00:00Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function setup() {
  const db = openDatabase(':memory:');
  migrateDatabase(db);
  const links = createEmailTokens(db, TTL);
  const newUser = () => {
    const email = `${randomBytes(4).toString('hex')}@example.com`;
    const { id } = db.insert(users).values({ email, passwordHash: 'unused' }).returning({ id: users.id }).get();
    return { id, email };
  };
  const rows = () => db.select().from(emailTokens).all();
  return { db, links, newUser, rows };
}

test('a token is 32 random bytes as 43 base64url characters, and only its SHA-256 is stored', () => {
  const { db, links, newUser, rows } = setup();
  const user = newUser();
  const { token } = links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  const [row] = rows();
  expect(row?.tokenHash).toBe(createHash('sha256').update(token).digest('base64url'));
  // The token itself is in no column of the table (nor is any row holding it).
  const dump = JSON.stringify(db.$client.prepare('SELECT * FROM email_tokens').all());
  expect(dump).not.toContain(token);
  // Two tokens are never alike.
  const other = links.issue({ purpose: 'sign_up', email: 'new@example.com', userId: null }, T0).token;
  expect(other).not.toBe(token);
});

test('a token expires after its purpose’s lifetime', () => {
  const { links, newUser } = setup();
  const user = newUser();
  for (const purpose of ['sign_up', 'password_reset', 'email_change'] as const) {
    const userId = purpose === 'sign_up' ? null : user.id;
    const issued = links.issue({ purpose, email: user.email, userId }, T0);
    expect(issued.expiresAt).toEqual(later(TTL[purpose]));
  }
});

test('consume uses a token once: the second use is refused as used', () => {
  const { links, newUser } = setup();
  const user = newUser();
  const { token } = links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  const first = links.consume(token, 'password_reset', later(1));
  expect(first).toMatchObject({ ok: true, token: { userId: user.id, email: user.email, purpose: 'password_reset' } });
  expect(links.consume(token, 'password_reset', later(2))).toEqual({ ok: false, reason: 'used', userId: user.id });
});

test('a consume rolled back with its transaction gives the link back', () => {
  const { db, links, newUser } = setup();
  const user = newUser();
  const { token } = links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  expect(() =>
    db.transaction(() => {
      expect(links.consume(token, 'password_reset', later(1)).ok).toBe(true);
      throw new Error('the action failed');
    }),
  ).toThrow('the action failed');
  expect(links.consume(token, 'password_reset', later(2)).ok).toBe(true);
});

test('a token is good for its own purpose only', () => {
  const { links, newUser } = setup();
  const user = newUser();
  const reset = links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0).token;
  const signUp = links.issue({ purpose: 'sign_up', email: 'new@example.com', userId: null }, T0).token;
  const change = links.issue({ purpose: 'email_change', email: 'next@example.com', userId: user.id }, T0).token;
  expect(links.consume(reset, 'sign_up', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  expect(links.consume(reset, 'email_change', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  expect(links.consume(signUp, 'password_reset', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  expect(links.consume(change, 'password_reset', later(1))).toMatchObject({ ok: false, reason: 'wrong_purpose' });
  // Refused for the wrong purpose, each still works for its own.
  expect(links.consume(reset, 'password_reset', later(1)).ok).toBe(true);
  expect(links.consume(signUp, 'sign_up', later(1)).ok).toBe(true);
  expect(links.consume(change, 'email_change', later(1)).ok).toBe(true);
});

test('an expired token is refused as expired, a moment before expiry it works', () => {
  const { links, newUser } = setup();
  const user = newUser();
  const target = { purpose: 'password_reset', email: user.email, userId: user.id } as const;
  const { token, expiresAt } = links.issue(target, T0);
  expect(links.consume(token, 'password_reset', expiresAt)).toMatchObject({ ok: false, reason: 'expired' });
  expect(links.consume(token, 'password_reset', later(TTL.password_reset + 3600))).toMatchObject({
    ok: false,
    reason: 'expired',
  });
  const fresh = links.issue(target, T0).token;
  expect(links.consume(fresh, 'password_reset', new Date(expiresAt.getTime() - 1)).ok).toBe(true);
});

test('unknown and malformed tokens are refused as unknown', () => {
  const { links } = setup();
  expect(links.consume(randomBytes(32).toString('base64url'), 'sign_up', T0)).toMatchObject({
    ok: false,
    reason: 'unknown',
  });
  for (const token of ['', 'short', `${'a'.repeat(43)}=`, "' OR 1=1 --".padEnd(43, 'x'), 'a'.repeat(44)]) {
    expect(links.consume(token, 'sign_up', T0), token).toMatchObject({ ok: false, reason: 'unknown' });
  }
});

test('a new token supersedes the earlier unused ones of the same purpose and user, and no others', () => {
  const { links, newUser } = setup();
  const ada = newUser();
  const bob = newUser();
  const adaReset1 = links.issue({ purpose: 'password_reset', email: ada.email, userId: ada.id }, T0).token;
  const adaChange = links.issue({ purpose: 'email_change', email: 'ada2@example.com', userId: ada.id }, T0).token;
  const bobReset = links.issue({ purpose: 'password_reset', email: bob.email, userId: bob.id }, T0).token;
  const adaReset2 = links.issue({ purpose: 'password_reset', email: ada.email, userId: ada.id }, later(1)).token;

  expect(links.consume(adaReset1, 'password_reset', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect(links.consume(adaReset2, 'password_reset', later(2)).ok).toBe(true);
  expect(links.consume(adaChange, 'email_change', later(2)).ok).toBe(true); // another purpose
  expect(links.consume(bobReset, 'password_reset', later(2)).ok).toBe(true); // another user
});

test('a new sign-up token supersedes the earlier ones for the same address, and no others', () => {
  const { links } = setup();
  const first = links.issue({ purpose: 'sign_up', email: 'ada@example.com', userId: null }, T0).token;
  const other = links.issue({ purpose: 'sign_up', email: 'bob@example.com', userId: null }, T0).token;
  const second = links.issue({ purpose: 'sign_up', email: 'ada@example.com', userId: null }, later(1)).token;
  expect(links.consume(first, 'sign_up', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect(links.consume(second, 'sign_up', later(2)).ok).toBe(true);
  expect(links.consume(other, 'sign_up', later(2)).ok).toBe(true);
});

test('revokeForUser ends every outstanding token of the user, whatever the purpose, and no one else’s', () => {
  const { links, newUser } = setup();
  const ada = newUser();
  const bob = newUser();
  const reset = links.issue({ purpose: 'password_reset', email: ada.email, userId: ada.id }, T0).token;
  const change = links.issue({ purpose: 'email_change', email: 'ada2@example.com', userId: ada.id }, T0).token;
  const bobs = links.issue({ purpose: 'password_reset', email: bob.email, userId: bob.id }, T0).token;
  links.revokeForUser(ada.id, later(1));
  expect(links.consume(reset, 'password_reset', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect(links.consume(change, 'email_change', later(2))).toMatchObject({ ok: false, reason: 'used' });
  expect(links.consume(bobs, 'password_reset', later(2)).ok).toBe(true);
});

test('prune deletes expired tokens, used or not, and keeps the live ones (a replay is audited as used until expiry)', () => {
  const { db, links, newUser, rows } = setup();
  const user = newUser();
  const short = links.issue({ purpose: 'email_change', email: 'x@example.com', userId: user.id }, T0);
  const used = links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  links.consume(used.token, 'password_reset', later(1));
  const long = links.issue({ purpose: 'sign_up', email: 'y@example.com', userId: null }, T0);

  expect(links.prune(later(1))).toBe(0);
  expect(links.consume(used.token, 'password_reset', later(2))).toMatchObject({ reason: 'used' });

  expect(links.prune(later(TTL.password_reset + 1))).toBe(2);
  expect(rows().map((r) => r.purpose)).toEqual(['sign_up']);
  expect(links.consume(short.token, 'email_change', later(TTL.password_reset + 2))).toMatchObject({
    reason: 'unknown',
  });
  expect(links.consume(long.token, 'sign_up', later(TTL.password_reset + 2)).ok).toBe(true);
  expect(db.select().from(emailTokens).where(eq(emailTokens.purpose, 'sign_up')).get()?.usedAt).not.toBeNull();
});

test('a user’s tokens go with the user', () => {
  const { db, links, newUser, rows } = setup();
  const user = newUser();
  links.issue({ purpose: 'password_reset', email: user.email, userId: user.id }, T0);
  db.delete(users).where(eq(users.id, user.id)).run();
  expect(rows()).toEqual([]);
});
