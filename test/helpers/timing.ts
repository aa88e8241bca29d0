// Timing side channels, measured the way the sign-in test does: medians of interleaved
// tries (machine noise hits both kinds alike), compared as a ratio.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { createClient } from './client.ts';
import { createUser } from './users.ts';

/** How far apart two medians may be before a response time tells the cases apart. */
export const TIMING_BAND = { min: 0.5, max: 2 } as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(work: () => Promise<unknown>) {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/**
 * Ratios median(b) / median(a), one per round of `n` interleaved tries each, stopping at the
 * first round inside TIMING_BAND. A real difference (a hash, a send awaited for one case)
 * shows in every round; a noisy machine rarely spoils `rounds` in a row.
 *
 * @example
 * const ratios = await timingRatios(() => register(knownAddress()), () => register(newAddress()))
 * expect(ratios.at(-1)).toBeGreaterThan(TIMING_BAND.min)
 */
export async function timingRatios(a: () => Promise<unknown>, b: () => Promise<unknown>, { n = 25, rounds = 3 } = {}) {
  await a(); // warm-up
  await b();
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const times = { a: [] as number[], b: [] as number[] };
    for (let i = 0; i < n; i++) {
      times.a.push(await timed(a));
      times.b.push(await timed(b));
    }
    const ratio = median(times.b) / median(times.a);
    ratios.push(ratio);
    if (ratio > TIMING_BAND.min && ratio < TIMING_BAND.max) break;
  }
  return ratios;
}

/**
 * Asserts that a mutation taking `{ email }` (sign-up, reset) costs the same for an address
 * that has an account and one that has none. Each address is asked once, from a new client
 * address, so no rate limit changes the work.
 *
 * @example await expectAddressesTimedAlike(server, 'auth.register')
 */
export async function expectAddressesTimedAlike(server: Parameters<typeof createUser>[0], path: string) {
  const known = await Promise.all(Array.from({ length: 80 }, async () => (await createUser(server)).email));
  const ask = async (email: string) => {
    const res = await createClient(server.url, server.config.appOrigin).mutate(path, { email });
    expect(res.status).toBe(200);
  };
  const ratios = await timingRatios(
    () => ask(known.pop()!),
    () => ask(`unknown-${randomBytes(6).toString('hex')}@example.com`),
  );
  const said = `ratios of medians (unknown / known) per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}`;
  expect(ratios.at(-1), said).toBeGreaterThan(TIMING_BAND.min);
  expect(ratios.at(-1), said).toBeLessThan(TIMING_BAND.max);
}
