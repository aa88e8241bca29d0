// The HTTP server: tRPC at /trpc, and the built SPA at / when there is one. Any error
// while handling a request becomes that request's 500, never the process's exit.
// /healthz and /readyz answer load balancers (http/health.ts).
// Edit it to mount other HTTP routes (webhooks, OAuth callbacks) beside tRPC.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { getRequestProblem } from './auth/csrf.ts';
import { readTransport } from './auth/transport.ts';
import { AuthError, wwwAuthenticate } from './auth/errors.ts';
import { HasherBusyError } from './auth/passwords.ts';
import { RateLimitError } from './auth/rate-limits.ts';
import { limitConnections, timeoutOptions } from './http/connection-limits.ts';
import { setSecurityHeaders } from './http/security-headers.ts';
import { HEALTH_PATHS, createHealthProbes } from './http/health.ts';
import { assignRequestId } from './http/request-id.ts';
import { type Logger, forRequest } from './logger.ts';
import { createStaticFiles } from './http/static-files.ts';
import { createContextFactory, type Services } from './context.ts';
import { appRouter } from './routers/_app.ts';

/** Requests larger than this get a 413 before any procedure runs; auth input is tiny. */
export const MAX_BODY_BYTES = 16 * 1024;
/** Where other services fetch the public keys (asymmetric JWT_ALG only). */
export const JWKS_PATH = '/.well-known/jwks.json';
/** More calls than this in one batched request get a 400. */
export const MAX_BATCH_SIZE = 10;

export interface AppOptions {
  /** The built SPA (dist/public); without one, every path outside /trpc is a 404. */
  publicDir?: string;
}

/** @example createApp(createServices({ db, config, logger, now: () => new Date() }), { publicDir }).listen(3000) */
export function createApp(services: Services, { publicDir }: AppOptions = {}): Server {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: createContextFactory(services),
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_SIZE,
    responseMeta({ errors }) {
      const headers: Record<string, string> = {};
      for (const { code, cause } of errors) {
        // RFC 6750 §3: a 401 or 403 says which challenge failed and why.
        if (cause instanceof AuthError) headers['www-authenticate'] = wwwAuthenticate(services.realm, cause);
        else if (code === 'UNAUTHORIZED') headers['www-authenticate'] = wwwAuthenticate(services.realm, null);
        if (cause instanceof RateLimitError) headers['retry-after'] = String(cause.retryAfterSeconds);
        if (cause instanceof HasherBusyError) headers['retry-after'] = '1';
      }
      return { headers };
    },
    onError({ error, path, ctx }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        (ctx?.logger ?? services.logger).error(`${path ?? '(no procedure)'} failed`, loggableFailure(error));
      }
    },
  });

  const serveStatic = publicDir ? createStaticFiles(publicDir) : null;
  // After close() (a SIGTERM) the server no longer listens: /readyz says so while it drains.
  const serveHealth = createHealthProbes(services.db, services.logger, () => !server.listening);
  // Running from source, Vite serves the SPA: someone who opens the API's port is sent there.
  const devAppHint =
    services.config.nodeEnv === 'development'
      ? `This is the API server (tRPC at /trpc). In development the app is at ${services.config.appOrigin}/\n`
      : undefined;
  const logRequests = services.config.nodeEnv === 'development';
  const isHttps = services.config.appOrigin.startsWith('https:');

  async function handle(req: IncomingMessage, res: ServerResponse, isApi: boolean) {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!isApi && HEALTH_PATHS.has(path)) return serveHealth(req, res, path);
    if (!isApi && path === JWKS_PATH) return serveJwks(req, res);
    if (!isApi) return serveStatic ? serveStatic(req, res) : notFound(res, devAppHint);
    // tRPC enforces the limit while it reads a body; a declared length is refused
    // before reading anything, whatever the procedure.
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      return sendTrpcError(res, 413, 'PAYLOAD_TOO_LARGE', `Request body is over ${MAX_BODY_BYTES} bytes`);
    }
    // Streaming responses (httpBatchStreamLink) send their headers before any procedure
    // runs, so no cookie, 401 status or Retry-After could follow: this API does not stream.
    if (/application\/jsonl/i.test(`${req.headers['trpc-accept'] ?? ''} ${req.headers.accept ?? ''}`)) {
      return sendTrpcError(
        res,
        400,
        'BAD_REQUEST',
        'Streaming responses are not supported: use httpLink or httpBatchLink',
      );
    }
    const { transport, problem: transportProblem } = readTransport(req);
    if (transportProblem) {
      const { status, code, message, bearerError } = transportProblem;
      if (bearerError) {
        const description = message.replaceAll('"', "'");
        res.setHeader(
          'www-authenticate',
          `Bearer realm="${services.realm}", error="${bearerError}", error_description="${description}"`,
        );
      }
      return sendTrpcError(res, status, code, message);
    }
    const problem = getRequestProblem(req, services.config.appOrigin, transport);
    if (problem) return sendTrpcError(res, problem.status, problem.code, problem.message);
    trpc(req, res);
  }

  /** RFC 7517 key set: what other services verify our tokens with (decision 011). */
  async function serveJwks(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
    }
    if (services.config.jwt.alg === 'HS256') {
      // An HMAC secret verifies and mints alike: there is nothing here anyone else may hold.
      return void res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('No public keys: tokens are signed with HS256 (a shared secret). Set JWT_ALG=EdDSA or ES256.\n');
    }
    const keys = await services.tokens.publicJwks(services.now());
    // Verifiers may cache for 5 minutes; a token with a kid they do not know yet makes them
    // fetch again (jose's createRemoteJWKSet does), so a rotation is picked up at once.
    res.writeHead(200, {
      'content-type': 'application/jwk-set+json',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ keys }));
  }

  function setHeaders(res: ServerResponse, isApi: boolean) {
    setSecurityHeaders(res, { isHttps });
    // Answers to signed-in users must stay out of every cache, shared or not (ASVS V14.3.2).
    if (isApi) res.setHeader('Cache-Control', 'no-store');
  }

  const server = createServer(timeoutOptions(services.config.http), (req, res) => {
    const requestId = assignRequestId(req, res, services.config.trustProxy);
    const logger = forRequest(services.logger, requestId);
    if (logRequests) logRequest(req, res, logger);
    const isApi = /^\/trpc(\/|\?|$)/.test(req.url ?? '');
    setHeaders(res, isApi);
    handle(req, res, isApi).catch((error: unknown) => {
      const path = (req.url ?? '').split('?')[0]?.slice(0, 200);
      logger.error(`${req.method} ${path} failed`, { stack: (error as Error)?.stack });
      if (res.headersSent) return void res.destroy();
      // Whatever the handler set described the response it meant to send.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.setHeader('x-request-id', requestId);
      setHeaders(res, isApi);
      if (isApi) sendTrpcError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
      else res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal server error\n');
    });
  });
  limitConnections(server, services.config.http);
  return server;
}

/** Development: one line per request, when its answer is sent (never its query string: it may hold input). */
function logRequest(req: IncomingMessage, res: ServerResponse, logger: Logger) {
  const started = performance.now();
  res.once('finish', () => {
    const path = (req.url ?? '').split('?')[0]?.slice(0, 200);
    logger.info(`${req.method} ${path} ${res.statusCode} ${(performance.now() - started).toFixed(1)} ms`);
  });
}

function notFound(res: ServerResponse, text = 'Not found\n') {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

/** An error in tRPC's own response shape, for requests refused before tRPC runs. */
function sendTrpcError(res: ServerResponse, status: number, code: string, message: string) {
  const body = { error: { message, code: -32600, data: { code, httpStatus: status } } };
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(body));
}

/**
 * What a 500 logs. A failed query's message (drizzle's) lists its parameters, which can be
 * password hashes, token hashes or addresses: the log gets the statement and the engine's
 * reason instead.
 */
function loggableFailure(error: Error): Record<string, unknown> {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ('query' in e && 'params' in e) {
      const reason = e.cause instanceof Error ? e.cause : undefined;
      return { query: e.query, reason: reason?.message, code: (reason as { code?: string } | undefined)?.code };
    }
  }
  return { stack: error.stack };
}
