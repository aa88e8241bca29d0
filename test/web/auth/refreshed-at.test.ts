// A tab skips its own refresh only when another tab really refreshed after its call
// started; a stored time in the future must not stop every tab from refreshing.
import { expect, test } from 'vitest';
import { isRefreshedSince } from '../../../web/src/auth/refreshed-at.ts';

const since = Date.parse('2026-01-01T12:00:00Z');
const now = since + 5_000;

test('a refresh stored after the call started counts', () => {
  expect(isRefreshedSince(String(since + 1_000), since, now)).toBe(true);
  expect(isRefreshedSince(String(now), since, now)).toBe(true);
});

test('a refresh stored before the call started does not count', () => {
  expect(isRefreshedSince(String(since - 1_000), since, now)).toBe(false);
  expect(isRefreshedSince(String(since), since, now)).toBe(false);
});

test('a stored time later than now counts as no refresh (a clock set back, a value written by hand)', () => {
  expect(isRefreshedSince(String(now + 1), since, now)).toBe(false);
  expect(isRefreshedSince(String(now + 365 * 24 * 3600 * 1000), since, now)).toBe(false);
});

test('nothing stored, or something that is not a time, counts as no refresh', () => {
  expect(isRefreshedSince(null, since, now)).toBe(false);
  expect(isRefreshedSince('soon', since, now)).toBe(false);
});
