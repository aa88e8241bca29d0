// Calling another service on the signed-in user's behalf: a token exchanged for that
// service alone (its audience, the same user, no longer-lived than the caller's token),
// sent as `Authorization: Bearer`. The service verifies it with our JWKS, no secret shared.
import { TRPCError } from '@trpc/server';
import type { z } from 'zod';
import type { AuthUser } from '../auth/authenticate.ts';
import type { Context } from '../context.ts';

/** A slow service must not hold the API's request (and connection) for long. */
const TIMEOUT_MS = 5000;

/**
 * GETs `path` from the service declared as `service` in JWT_SERVICES (its audience is its
 * base URL) and returns the JSON answer checked against `schema`. A missing service is a
 * 404, a failing one a 502 (504 when it is too slow): never the service's own words.
 *
 * @example
 * const summary = await callService(ctx, 'reports', '/summary', summarySchema)
 */
export async function callService<T>(
  ctx: Context & { user: AuthUser },
  service: string,
  path: string,
  schema: z.ZodType<T>,
): Promise<T> {
  const baseUrl = ctx.config.jwt.services[service];
  if (!baseUrl) {
    throw new TRPCError({
      code: 'NOT_FOUND',
      message: `No ${service} service is configured: add ${service}=<its URL> to JWT_SERVICES`,
    });
  }
  const { token } = await ctx.tokens.issueForService(
    { userId: ctx.user.id, role: ctx.user.role, sessionId: ctx.user.sessionId },
    service,
    ctx.user.tokenExpiresAt,
    ctx.now(),
  );
  const fail = (code: 'BAD_GATEWAY' | 'GATEWAY_TIMEOUT', why: string): never => {
    ctx.logger.warn(`${service} service call failed`, { path, why });
    const message =
      code === 'GATEWAY_TIMEOUT' ? `The ${service} service did not answer in time` : `The ${service} service failed`;
    throw new TRPCError({ code, message });
  };
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      // A redirect would carry the token to wherever the service points.
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const isTimeout = (error as Error)?.name === 'TimeoutError';
    return fail(isTimeout ? 'GATEWAY_TIMEOUT' : 'BAD_GATEWAY', (error as Error)?.message ?? 'fetch failed');
  }
  if (!response.ok) {
    return fail('BAD_GATEWAY', `${response.status} ${response.headers.get('www-authenticate') ?? ''}`.trim());
  }
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  return parsed.success ? parsed.data : fail('BAD_GATEWAY', 'unexpected answer');
}
