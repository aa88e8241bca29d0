// The HTTP server: tRPC at /trpc, and the built SPA at / when there is one.
// Edit it to mount other HTTP routes (webhooks, OAuth callbacks) beside tRPC.
import { existsSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import sirv from 'sirv';
import { getRequestProblem } from './auth/csrf.ts';
import { AuthError, wwwAuthenticate } from './auth/errors.ts';
import { HasherBusyError } from './auth/passwords.ts';
import { RateLimitError } from './auth/rate-limits.ts';
import { setSecurityHeaders } from './http/security-headers.ts';
import { createContextFactory, type Services } from './context.ts';
import { appRouter } from './routers/_app.ts';

/** Requests larger than this get a 413 before any procedure runs; auth input is tiny. */
export const MAX_BODY_BYTES = 16 * 1024;
/** More calls than this in one batched request get a 400. */
export const MAX_BATCH_SIZE = 10;

// `npm run build` writes the SPA to dist/public, next to the compiled server
// (dist/server); running from source there is none, and Vite serves the SPA.
const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

/** @example createApp(createServices({ db, config, logger, now: () => new Date() })).listen(3000) */
export function createApp(services: Services): Server {
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
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        services.logger.error(`${path ?? '(no procedure)'} failed`, { stack: error.stack });
      }
    },
  });

  const spa = existsSync(PUBLIC_DIR)
    ? sirv(PUBLIC_DIR, {
        single: true,
        setHeaders(res, pathname) {
          // Vite puts content-hashed files in /assets: a new build means new names.
          if (pathname.startsWith('/assets/')) {
            res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
          } else {
            // index.html (and the SPA fallback) must be revalidated, or users keep an old build.
            res.setHeader('Cache-Control', 'no-cache');
          }
        },
      })
    : null;

  const isHttps = services.config.appOrigin.startsWith('https:');
  return createServer((req, res) => {
    setSecurityHeaders(res, { isHttps });
    if (req.url?.startsWith('/trpc/')) {
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
      const problem = getRequestProblem(req, services.config.appOrigin);
      if (problem) return sendTrpcError(res, problem.status, problem.code, problem.message);
      return trpc(req, res);
    }
    if (spa) return spa(req, res, () => notFound(res));
    notFound(res);
  });
}

function notFound(res: ServerResponse) {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
}

/** An error in tRPC's own response shape, for requests refused before tRPC runs. */
function sendTrpcError(res: ServerResponse, status: number, code: string, message: string) {
  const body = { error: { message, code: -32600, data: { code, httpStatus: status } } };
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(body));
}
