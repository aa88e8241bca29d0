// Calling another service on the signed-in user's behalf: a token exchanged for that
// service alone (its audience, the same user, no longer-lived than the caller's token),
// sent as `Authorization: Bearer`. The service verifies it with our JWKS, no secret shared.
import { TRPCError } from '@trpc/server';
import type { z } from 'zod';
import type { AuthUser } from '../auth/authenticate.ts';
import type { Context } from '../context.ts';

/** A slow service must not hold the API's request (and connection) for long. */
const TIMEOUT_MS = 5000;
/** Nor may a large answer fill the API's memory: past this, the call fails. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** `path` under the service's base URL, keeping the base's own path (`https://host/api/v1` + `/summary`). */
const urlUnder = (baseUrl: string, path: string) =>
  new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);

/** The body as text, or null when it is larger than MAX_RESPONSE_BYTES (it is then not read further). */
async function readCapped(response: Response): Promise<string | null> {
  if (Number(response.headers.get('content-length')) > MAX_RESPONSE_BYTES) return null;
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader?.read(); read && !read.done; read = await reader!.read()) {
    size += read.value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader!.cancel();
      return null;
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * GETs `path` from the service declared as `service` in JWT_SERVICES (its audience is its
 * base URL) and returns the JSON answer (at most 1 MiB) checked against `schema`. A missing
 * service is a 404, a failing one a 502 (504 when it is too slow): never the service's own words.
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
  const baseUrl = Object.hasOwn(ctx.config.jwt.services, service) ? ctx.config.jwt.services[service] : undefined;
  if (!baseUrl || !/^https?:\/\//.test(baseUrl)) {
    throw new TRPCError({
      code: 'NOT_FOUND',
      message: baseUrl
        ? `The ${service} service's audience (${baseUrl}) is not a URL the API can call`
        : `No ${service} service is configured: add ${service}=<its URL> to JWT_SERVICES`,
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
  let body: string | null;
  try {
    response = await fetch(urlUnder(baseUrl, path), {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      // A redirect would carry the token to wherever the service points.
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    body = await readCapped(response);
  } catch (error) {
    const isTimeout = (error as Error)?.name === 'TimeoutError';
    return fail(isTimeout ? 'GATEWAY_TIMEOUT' : 'BAD_GATEWAY', (error as Error)?.message ?? 'fetch failed');
  }
  if (!response.ok) {
    return fail('BAD_GATEWAY', `${response.status} ${response.headers.get('www-authenticate') ?? ''}`.trim());
  }
  if (body === null) return fail('BAD_GATEWAY', `answer over ${MAX_RESPONSE_BYTES} bytes`);
  const parsed = schema.safeParse(parseJson(body));
  return parsed.success ? parsed.data : fail('BAD_GATEWAY', 'unexpected answer');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
