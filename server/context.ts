// What every procedure receives as `ctx`. Services are built once at boot; the inner
// context adds a request scope that tests and server-side calls can fake, and the
// outer one fills it from the HTTP request. Edit it to give procedures a new service.
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { Db } from '../db/client.ts';
import { createAccounts } from './auth/accounts.ts';
import { createEmailTokens } from './auth/email-tokens.ts';
import { readCookies } from './auth/cookies.ts';
import { type AuditEvent, createAuditLog } from './auth/audit-log.ts';
import { createPasswordHasher } from './auth/passwords.ts';
import { createRateLimits } from './auth/rate-limits.ts';
import { createRevocations } from './auth/revocations.ts';
import { createSecondFactors } from './auth/second-factor/factors.ts';
import { createPasskeys } from './auth/second-factor/passkeys.ts';
import { createSignInChallenges } from './auth/second-factor/sign-in-challenge.ts';
import { createSessionStore } from './auth/sessions.ts';
import { createAccessTokens } from './auth/tokens.ts';
import type { Config } from './env.ts';
import { createMailer } from './mail/mailer.ts';
import { APP_NAME } from './app-name.ts';
import { getClientIp } from './http/client-ip.ts';
import { readTransport, type Transport } from './auth/transport.ts';
import { type Logger, forRequest } from './logger.ts';
import { requestIdOf } from './http/request-id.ts';

export interface ServerDeps {
  db: Db;
  config: Config;
  logger: Logger;
  /** The clock; tests inject one instead of sleeping. */
  now: () => Date;
}

/** Everything built once per process. Loads the recent revocations from the database. */
export async function createServices(deps: ServerDeps) {
  const revocations = createRevocations(deps.db, deps.config.jwt.accessTokenTtl, deps.logger);
  await revocations.load(deps.now());
  const passwords = createPasswordHasher(deps.config.passwords);
  const sessions = createSessionStore(deps.db, deps.config.jwt, revocations);
  const auditLog = createAuditLog(deps.db);
  return {
    ...deps,
    realm: new URL(deps.config.appOrigin).host,
    tokens: createAccessTokens(deps.config.jwt, sessions.isLive),
    passwords,
    accounts: createAccounts(deps.db, passwords),
    sessions,
    revocations,
    // Several PostgreSQL instances share one budget (rate-limits.ts says when to share on SQLite).
    limits: createRateLimits({
      maxKeys: deps.config.rateLimitMaxKeys,
      db: deps.db,
      shared: deps.db.engine === 'postgres',
    }),
    auditLog,
    emailTokens: createEmailTokens(deps.db, deps.config.emailTokenTtl),
    secondFactors: createSecondFactors(deps.db, deps.config.encryptionKey),
    signInChallenges: createSignInChallenges(deps.db),
    passkeys: createPasskeys(deps.db, { origin: deps.config.appOrigin, rpName: APP_NAME }),
    /** Sends what procedures queue; main.ts starts and stops its worker. */
    mail: createMailer({ ...deps, auditLog }),
  };
}
export type Services = Awaited<ReturnType<typeof createServices>>;

export interface RequestScope {
  ip: string;
  userAgent: string | null;
  /** Cookies (browsers) or the body and `Authorization: Bearer` (native clients): see transport.ts. */
  transport: Transport;
  bearerToken: string | undefined;
  cookies: Record<string, string | undefined>;
  /** An auth cookie came twice (see readCookies): both are dropped from `cookies`. */
  hasConflictingAuthCookies: boolean;
  /** A POST with no body at all: a tRPC client's `.mutate()` without an argument (see trpc.ts). */
  hasEmptyBody: boolean;
  setCookie: (header: string) => void;
  /** Set by server/app.ts on every HTTP request: each log line of the request carries it. */
  requestId?: string;
}

/** @example createInnerContext(services, { cookies: { '__Host-access_token': jwt } }) */
export function createInnerContext(services: Services, request: Partial<RequestScope> = {}) {
  const ip = request.ip ?? '127.0.0.1';
  const userAgent = request.userAgent ?? null;
  return {
    ...services,
    logger: request.requestId ? forRequest(services.logger, request.requestId) : services.logger,
    ip,
    userAgent,
    transport: request.transport ?? 'cookie',
    bearerToken: request.bearerToken,
    cookies: request.cookies ?? {},
    hasConflictingAuthCookies: request.hasConflictingAuthCookies ?? false,
    hasEmptyBody: request.hasEmptyBody ?? false,
    setCookie: request.setCookie ?? (() => {}),
    /** Records a security event with this request's time, address and user agent. */
    audit: (event: Omit<AuditEvent, 'at' | 'ip' | 'userAgent'>) =>
      services.auditLog.record({ ...event, at: services.now(), ip, userAgent }),
  };
}

export function createContextFactory(services: Services) {
  return ({ req, res }: CreateHTTPContextOptions) => {
    // server/app.ts refused the request already if its transport had a problem.
    const { transport = 'cookie', bearerToken } = readTransport(req);
    const scope = {
      requestId: requestIdOf(req),
      ip: getClientIp(req, services.config.trustProxy),
      userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
      hasEmptyBody:
        req.method === 'POST' &&
        req.headers['transfer-encoding'] === undefined &&
        (req.headers['content-length'] ?? '0') === '0',
    };
    if (transport === 'bearer') return createInnerContext(services, { ...scope, transport, bearerToken });
    return createInnerContext(services, {
      ...scope,
      ...readCookies(req.headers.cookie ?? ''),
      setCookie: (header) => res.appendHeader('set-cookie', header),
    });
  };
}

export type Context = ReturnType<typeof createInnerContext>;
