// Password hashing with argon2id. Tune the cost in .env (ARGON2_*), never below
// OWASP's minimum in production; tests use cheaper parameters.
import { randomBytes } from 'node:crypto';
import argon2, { type HashOptions } from 'argon2';
import pLimit from 'p-limit';
import type { Config } from '../env.ts';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/** Composed and decomposed spellings of the same password must hash alike. */
export const normalizePassword = (password: string) => password.normalize('NFKC');

export class HasherBusyError extends Error {}

/**
 * Hashes and verifies passwords, at most `concurrency` at a time: each hash holds
 * `memoryCost` KiB and a libuv thread, which jose's WebCrypto needs too.
 *
 * @example
 * const passwords = createPasswordHasher(config.passwords)
 * const hash = await passwords.hash('correct horse battery staple')
 * await passwords.verify(hash, 'correct horse battery staple') // => { ok: true, needsRehash: false }
 */
export function createPasswordHasher(options: Config['passwords']) {
  const params: HashOptions = {
    type: argon2.argon2id,
    memoryCost: options.memoryCost,
    timeCost: options.timeCost,
    parallelism: 1,
  };
  const limit = pLimit(options.concurrency);
  const run = <T>(work: () => Promise<T>): Promise<T> => {
    // A flood waits in a bounded queue; past it, callers are told to come back.
    if (limit.pendingCount >= options.maxQueue) return Promise.reject(new HasherBusyError());
    return limit(work);
  };
  // Verifying against this when the e-mail is unknown costs what a real check costs.
  const dummyHash = run(() => argon2.hash(randomBytes(16).toString('hex'), params));

  return {
    hash: (password: string) => run(() => argon2.hash(normalizePassword(password), params)),

    /** `hash` null (no such user) still spends one verification, then fails. */
    async verify(hash: string | null, password: string) {
      const target = hash ?? (await dummyHash);
      const matches = await run(() => argon2.verify(target, normalizePassword(password)));
      const ok = matches && hash !== null;
      return { ok, needsRehash: ok && argon2.needsRehash(target, params) };
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
