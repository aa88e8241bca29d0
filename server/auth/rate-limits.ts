// Attempt limits for the endpoints an attacker hammers. Edit the numbers here;
// they are per process (RateLimiterMemory): use a shared store when you run several.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** The limits, as rate-limiter-flexible options (points per `duration` seconds). */
export const RATE_LIMITS = {
  /** Sign-in attempts from one IP address (an office behind one NAT still fits). */
  loginPerIp: { points: 30, duration: 15 * 60 },
  /** Sign-in or password-check attempts on one account, known or not; success resets it. */
  loginPerAccount: { points: 5, duration: 15 * 60 },
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
 * await limits.loginPerIp.consume(ip) // throws RateLimitError when exhausted
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
  return {
    loginPerIp: make(RATE_LIMITS.loginPerIp),
    loginPerAccount: make(RATE_LIMITS.loginPerAccount),
    registerPerIp: make(RATE_LIMITS.registerPerIp),
    refreshPerIp: make(RATE_LIMITS.refreshPerIp),
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
