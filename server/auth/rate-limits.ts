// Attempt limits for the endpoints an attacker hammers, and the lockout policy of
// docs/decisions/008-lockout-policy.md. Edit the numbers here. Where they are counted:
// - one process (SQLite): in memory, at most RATE_LIMIT_MAX_KEYS counters;
// - several processes (PostgreSQL): in the database's rate_limits table, so N instances
//   share one budget instead of multiplying it. Several SQLite processes on one file can
//   share it too: pass `shared: true` in server/context.ts (each attempt is then a write).
// A limit that bounds load rather than guesses (PER_INSTANCE) stays in each process's
// memory even then: N instances may serve N times the load, and it costs no write.
import { lt } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../../db/client.ts';

/** The limits, as rate-limiter-flexible options (points per `duration` seconds). */
export const RATE_LIMITS = {
  /** Password checks from one IP address on any accounts, right or wrong (an office behind one NAT still fits). */
  passwordPerIp: { points: 30, duration: 15 * 60 },
  /** Wrong passwords from one IP on one account, known or not; a right one clears it. */
  passwordPerIpAndAccount: { points: 5, duration: 15 * 60 },
  /**
   * Wrong passwords on one account from anywhere: a ceiling for guessing spread over many
   * addresses. Past it, each address gets one check on the account per 15 minutes, so the
   * owner still signs in and a guesser gets one guess per address and window (decision 008).
   */
  passwordPerAccount: { points: 100, duration: 60 * 60 },
  /** Wrong current passwords in one session (auth.changePassword): a stolen access token is no password oracle. */
  currentPasswordPerSession: { points: 5, duration: 15 * 60 },
  /** Links used (sign-up, password reset) from one address: each costs a password hash. */
  linkPerIp: { points: 20, duration: 60 * 60 },
  /** Requests that may send mail (sign-up, reset, e-mail change) from one address: 429 past it. */
  mailPerIp: { points: 10, duration: 60 * 60 },
  /**
   * Mails to one e-mail address. Past it the request is answered exactly as before but no
   * mail is sent, so the limit reveals nothing about the address and nobody floods an inbox.
   */
  mailPerAddress: { points: 3, duration: 15 * 60 },
  /** Each tab refreshes once per access-token lifetime; this leaves ample room. */
  refreshPerIp: { points: 120, duration: 60 },
  /** Service tokens one session may ask for (each is audited): a client needs one per service per TTL. */
  exchangePerSession: { points: 30, duration: 60 },
  /**
   * Wrong authenticator codes on one account, from anywhere (only someone past the password,
   * signed in, or holding a reset link can send one): 5 in a row, then 15 minutes' wait, as
   * the Copenhagen Book says; the owner is mailed. A right code clears it. Recovery codes
   * stay usable meanwhile.
   */
  totpPerAccount: { points: 5, duration: 15 * 60 },
  /**
   * Recovery-code attempts on one account from one address. Each code has 124 bits, so this
   * only stops a loop; keyed by address too, so someone else's attempts never use up the
   * owner's way in.
   */
  recoveryCodePerAccountAndIp: { points: 10, duration: 60 * 60 },
  /**
   * Passkey calls from one address: 60 ceremonies, whose options (a stored challenge) and
   * answer (an audited attempt) count one each. A signature cannot be guessed, so this
   * bounds load and stored rows, not guesses.
   */
  passkeyPerIp: { points: 120, duration: 15 * 60 },
} as const;

/**
 * Limits counted per process even when the others are shared: a refresh token cannot be
 * guessed (256 random bits), so its limit only keeps one address from taking a process's
 * capacity, and a database write on every refresh would cost PostgreSQL a quarter of its rotation rate.
 */
const PER_INSTANCE: ReadonlySet<keyof typeof RATE_LIMITS> = new Set(['refreshPerIp']);

export class RateLimitError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts; try again in ${retryAfterSeconds} seconds`);
    this.name = 'RateLimitError';
  }
}

const refusal = (msBeforeNext: number) => new RateLimitError(Math.max(1, Math.ceil(msBeforeNext / 1000)));

/**
 * @example
 * const limits = createRateLimits({ maxKeys: config.rateLimitMaxKeys })          // in memory
 * const limits = createRateLimits({ maxKeys, db, shared: db.engine === 'postgres' }) // in the database
 * // throws RateLimitError instead of calling `verify` when a limit is used up
 * const user = await limits.signInAttempt(ip, email, () => accounts.verifyCredentials(email, password, now))
 */
export function createRateLimits({ maxKeys, db, shared = false }: { maxKeys: number; db?: Db; shared?: boolean }) {
  if (shared && !db) throw new Error('Shared rate limits need the database');
  // One LRU over every limiter's keys bounds their memory whatever mix of addresses and
  // e-mails a flood brings. Evicting a key deletes its counter: it starts again from zero.
  const keys = new LRUCache<string, RateLimiterMemory>({
    max: maxKeys,
    dispose: (limiter, key) => void limiter.delete(limiter.parseKey(key)),
  });
  const limiters: RateLimiterMemory[] = [];

  const make = (name: keyof typeof RATE_LIMITS) => {
    const options = { ...RATE_LIMITS[name], keyPrefix: name };
    const inDatabase = shared && !PER_INSTANCE.has(name);
    // The database store deletes nothing on its own here: prune() does, with the rest.
    const limiter = inDatabase
      ? new RateLimiterDrizzle({
          ...options,
          storeClient: db,
          schema: db!.tables.rateLimits,
          clearExpiredByTimeout: false,
        })
      : new RateLimiterMemory(options);
    if (limiter instanceof RateLimiterMemory) limiters.push(limiter);
    // Memory is bounded by the LRU; the table by prune().
    const track = (key: string) => void (inDatabase || keys.set(limiter.getKey(key), limiter as RateLimiterMemory));
    /** Counts one attempt and says where the key stands, without refusing. */
    const take = (key: string): Promise<RateLimiterRes> => {
      track(key);
      return limiter.consume(key).catch((error: unknown) => {
        if (error instanceof RateLimiterRes) return error;
        throw error;
      });
    };
    return {
      take,
      /** Counts one attempt; throws RateLimitError when the limit is used up. */
      async consume(key: string) {
        const result = await take(key);
        if (result.consumedPoints > limiter.points) throw refusal(result.msBeforeNext);
        return result;
      },
      /** Gives one attempt back. */
      refund: (key: string) => (track(key), limiter.reward(key)),
      reset: async (key: string) => {
        if (inDatabase) await limiter.delete(key);
        else keys.delete(limiter.getKey(key));
      },
    };
  };
  const passwordPerIp = make('passwordPerIp');
  const passwordPerIpAndAccount = make('passwordPerIpAndAccount');
  const passwordPerAccount = make('passwordPerAccount');
  const currentPasswordPerSession = make('currentPasswordPerSession');
  const mailPerAddress = make('mailPerAddress');

  return {
    /**
     * Runs `verify`, a password check on `account` from `ip`, within the sign-in limits and
     * returns its result (null: wrong password or unknown account, charged alike).
     * Attempts are counted before checking, so parallel guesses count; a right password
     * and a check that never ran (hasher busy) are given back.
     */
    async signInAttempt<T>(ip: string, account: string, verify: () => Promise<T | null>): Promise<T | null> {
      // Each limit is asked only when the ones before it agreed: a refused call creates no key.
      await passwordPerIp.consume(ip);
      const pair = `${ip} ${account}`;
      const fromHere = await passwordPerIpAndAccount.consume(pair);
      const onAccount = await passwordPerAccount.take(account);
      const pastCeiling = onAccount.consumedPoints > RATE_LIMITS.passwordPerAccount.points;
      const refused = () => refusal(Math.min(onAccount.msBeforeNext, fromHere.msBeforeNext));
      // Past the ceiling, a second check from one address would be an oracle for its guesses.
      if (pastCeiling && fromHere.consumedPoints > 1) throw refused();
      const result = await verify().catch(async (error: unknown) => {
        await Promise.all([passwordPerIpAndAccount.refund(pair), passwordPerAccount.refund(account)]);
        throw error;
      });
      if (result !== null) {
        await Promise.all([passwordPerIpAndAccount.reset(pair), passwordPerAccount.refund(account)]);
        return result;
      }
      if (pastCeiling) throw refused();
      return null;
    },

    /** Like `signInAttempt` for a signed-in session's current password: limited per session only. */
    async currentPasswordAttempt<T>(sessionId: string, verify: () => Promise<T | null>): Promise<T | null> {
      await currentPasswordPerSession.consume(sessionId);
      const result = await verify().catch(async (error: unknown) => {
        await currentPasswordPerSession.refund(sessionId);
        throw error;
      });
      if (result !== null) await currentPasswordPerSession.reset(sessionId);
      return result;
    },

    mailPerIp: make('mailPerIp'),
    linkPerIp: make('linkPerIp'),
    /** True when another mail to `address` is allowed now (never throws: see RATE_LIMITS.mailPerAddress). */
    async mayMail(address: string) {
      const result = await mailPerAddress.take(address);
      return result.consumedPoints <= RATE_LIMITS.mailPerAddress.points;
    },
    refreshPerIp: make('refreshPerIp'),
    exchangePerSession: make('exchangePerSession'),
    totpPerAccount: make('totpPerAccount'),
    recoveryCodePerAccountAndIp: make('recoveryCodePerAccountAndIp'),
    passkeyPerIp: make('passkeyPerIp'),

    /** Counters held in memory, for tests and the load script (only the PER_INSTANCE ones when shared). */
    size: () => limiters.reduce((sum, limiter) => sum + limiter.dump().storage.length, 0),

    /** Deletes the database's counters whose window ended an hour ago; returns how many. */
    async prune(now: Date): Promise<number> {
      if (!shared) return 0;
      const { rateLimits } = db!.tables;
      const cutoff = new Date(now.getTime() - 3600_000);
      return (await db!.delete(rateLimits).where(lt(rateLimits.expire, cutoff)).returning({ key: rateLimits.key }))
        .length;
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
