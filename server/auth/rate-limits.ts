// Attempt limits for the endpoints an attacker hammers. Edit the numbers here;
// they are per process (RateLimiterMemory): use a shared store when you run several.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** The limits, as rate-limiter-flexible options (points per `duration` seconds). */
export const RATE_LIMITS = {
  /** Password attempts from one IP address, on any accounts (an office behind one NAT still fits). */
  passwordPerIp: { points: 30, duration: 15 * 60 },
  /** Password attempts from one IP on one account, known or not; a success resets it. */
  passwordPerIpAndAccount: { points: 5, duration: 15 * 60 },
  /**
   * All password attempts on one account, from anywhere: a ceiling for guessing spread
   * over many addresses. High enough that one attacker cannot lock the owner out.
   */
  passwordPerAccount: { points: 100, duration: 60 * 60 },
  registerPerIp: { points: 10, duration: 60 * 60 },
  /** Each tab refreshes once per access-token lifetime; this leaves ample room. */
  refreshPerIp: { points: 120, duration: 60 },
} as const;

export class RateLimitError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts; try again in ${retryAfterSeconds} seconds`);
    this.name = 'RateLimitError';
  }
}

/**
 * @example
 * const limits = createRateLimits()
 * await limits.passwordAttempt(ip, email)  // throws RateLimitError when any limit is exhausted
 * await limits.passwordAccepted(ip, email)
 */
export function createRateLimits() {
  const make = (options: { points: number; duration: number }) => {
    const limiter = new RateLimiterMemory(options);
    return {
      async consume(key: string) {
        try {
          await limiter.consume(key);
        } catch (error) {
          if (!(error instanceof RateLimiterRes)) throw error;
          throw new RateLimitError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
        }
      },
      reset: (key: string) => limiter.delete(key),
    };
  };
  const passwordPerIp = make(RATE_LIMITS.passwordPerIp);
  const passwordPerIpAndAccount = make(RATE_LIMITS.passwordPerIpAndAccount);
  const passwordPerAccount = make(RATE_LIMITS.passwordPerAccount);
  return {
    /** Counts one password check (sign-in or password change) against every limit. */
    async passwordAttempt(ip: string, account: string) {
      await passwordPerIp.consume(ip);
      await passwordPerIpAndAccount.consume(`${ip} ${account}`);
      await passwordPerAccount.consume(account);
    },
    passwordAccepted: (ip: string, account: string) => passwordPerIpAndAccount.reset(`${ip} ${account}`),
    registerPerIp: make(RATE_LIMITS.registerPerIp),
    refreshPerIp: make(RATE_LIMITS.refreshPerIp),
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
