// The attempt limits on their own: what a wrong, a right and an unchecked password
// cost, and that their memory stays within RATE_LIMIT_MAX_KEYS whatever a flood sends.
import { expect, test } from 'vitest';
import { HasherBusyError } from '../../../server/auth/passwords.ts';
import { RATE_LIMITS, RateLimitError, createRateLimits } from '../../../server/auth/rate-limits.ts';
import { openTestDatabase } from '../../helpers/database.ts';

const wrong = () => Promise.resolve(null);
const right = () => Promise.resolve({ id: 'user' });
const busy = () => Promise.reject(new HasherBusyError());

test('limiter memory stays within its cap whatever the mix of addresses and e-mails', async () => {
  const limits = createRateLimits({ maxKeys: 200 });
  for (let i = 0; i < 5000; i++) {
    await limits.signInAttempt(`198.51.${i >> 8}.${i & 255}`, `flood-${i}@example.com`, wrong);
    await limits.mailPerIp.consume(`203.0.${i >> 8}.${i & 255}`);
  }
  expect(limits.size()).toBeLessThanOrEqual(200);
});

test('a call refused by the per-address limit creates no other counter', async () => {
  const limits = createRateLimits({ maxKeys: 10_000 });
  const ip = '198.51.100.7';
  for (let i = 0; i < RATE_LIMITS.passwordPerIp.points; i++) {
    await limits.signInAttempt(ip, `spray-${i}@example.com`, wrong);
  }
  const before = limits.size();
  for (let i = 0; i < 100; i++) {
    await expect(limits.signInAttempt(ip, `more-${i}@example.com`, wrong)).rejects.toBeInstanceOf(RateLimitError);
  }
  expect(limits.size()).toBe(before);
});

test('a right password costs none of the per-account budget; a wrong one does', async () => {
  const limits = createRateLimits({ maxKeys: 10_000 });
  const ceiling = RATE_LIMITS.passwordPerAccount.points;
  for (let i = 0; i < ceiling * 2; i++) await limits.signInAttempt(`198.51.100.${i}`, 'owner@example.com', right);
  for (let i = 0; i < ceiling; i++) await limits.signInAttempt(`203.0.113.${i}`, 'owner@example.com', wrong);
  await expect(limits.signInAttempt('192.0.2.1', 'owner@example.com', wrong)).rejects.toBeInstanceOf(RateLimitError);
});

test('a check the hasher had no room for costs no attempt on the account', async () => {
  const limits = createRateLimits({ maxKeys: 10_000 });
  const ip = '198.51.100.8';
  for (let i = 0; i < RATE_LIMITS.passwordPerIpAndAccount.points; i++) {
    await expect(limits.signInAttempt(ip, 'busy@example.com', busy)).rejects.toBeInstanceOf(HasherBusyError);
  }
  expect(await limits.signInAttempt(ip, 'busy@example.com', wrong)).toBeNull();
});

test('the database store (shared by instances) keeps the same rules: refusal past the limit, a right password resets, prune', async () => {
  const db = await openTestDatabase();
  try {
    const limits = createRateLimits({ maxKeys: 10, db, shared: true });
    const ip = '198.51.100.9';
    const allowed = RATE_LIMITS.passwordPerIpAndAccount.points;
    for (let i = 0; i < allowed - 1; i++) await limits.signInAttempt(ip, 'stored@example.com', wrong);
    // A right password clears the pair's count: the full budget is back.
    await limits.signInAttempt(ip, 'stored@example.com', right);
    for (let i = 0; i < allowed; i++) await limits.signInAttempt(ip, 'stored@example.com', wrong);
    await expect(limits.signInAttempt(ip, 'stored@example.com', wrong)).rejects.toBeInstanceOf(RateLimitError);
    // The counters are rows, not memory; a second instance on the database sees them.
    expect(limits.size()).toBe(0);
    const other = createRateLimits({ maxKeys: 10, db, shared: true });
    await expect(other.signInAttempt(ip, 'stored@example.com', wrong)).rejects.toBeInstanceOf(RateLimitError);
    expect(await limits.prune(new Date(Date.now() + 3 * 3600_000))).toBeGreaterThan(0);
  } finally {
    await db.close();
  }
});

test('the refresh limit stays in each instance even when the others are shared: it bounds load, not guesses', async () => {
  const db = await openTestDatabase();
  try {
    const a = createRateLimits({ maxKeys: 10, db, shared: true });
    const b = createRateLimits({ maxKeys: 10, db, shared: true });
    const ip = '198.51.100.10';
    for (let i = 0; i < RATE_LIMITS.refreshPerIp.points; i++) await a.refreshPerIp.consume(ip);
    await expect(a.refreshPerIp.consume(ip)).rejects.toBeInstanceOf(RateLimitError);
    await expect(b.refreshPerIp.consume(ip)).resolves.toBeDefined();
    expect(await db.select().from(db.tables.rateLimits)).toEqual([]);
    expect(a.size()).toBe(1);
  } finally {
    await db.close();
  }
});
