// Plain HTTP probes for load balancers and orchestrators, outside tRPC (no auth, no CSRF
// check, no JSON-RPC envelope): GET /healthz says the process answers; GET /readyz says it
// can serve, that is the database answers and holds every migration this code ships, and
// the server is not shutting down.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../../db/client.ts';
import { pendingMigrations } from '../../db/migrate.ts';
import type { Logger } from '../logger.ts';

export const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

/** A readiness check slower than this counts as a failure: a stuck database is not ready. */
const READY_TIMEOUT_MS = 2_000;
/**
 * One check answers every probe for this long: probes (or anyone, the path is public) can
 * come as often as they like without queueing queries on the database's connections.
 */
const READY_CACHE_MS = 1_000;

type Problem = string | null;

async function readinessProblem(db: Db): Promise<Problem> {
  try {
    await db.ping();
  } catch {
    return 'the database does not answer';
  }
  const pending = await pendingMigrations(db);
  return pending > 0 ? `${pending} database migration(s) not applied: restart to apply them` : null;
}

function withTimeout(check: Promise<Problem>): Promise<Problem> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Problem>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
  });
  return Promise.race([check.catch(() => 'the readiness check failed'), late]).finally(() => clearTimeout(timer));
}

/**
 * The /healthz and /readyz handler. `isShuttingDown`: the server stopped accepting
 * connections (SIGTERM), so a load balancer should send it nothing new.
 */
export function createHealthProbes(db: Db, logger: Logger, isShuttingDown: () => boolean) {
  let last: { at: number; problem: Problem } | undefined;
  let running: Promise<Problem> | undefined;

  /** At most one check at a time, its answer reused for READY_CACHE_MS; a change is logged once. */
  async function readiness(): Promise<Problem> {
    if (isShuttingDown()) return 'shutting down';
    if (last && performance.now() - last.at < READY_CACHE_MS) return last.problem;
    running ??= withTimeout(readinessProblem(db)).finally(() => (running = undefined));
    const problem = await running;
    if (problem !== (last?.problem ?? null)) {
      if (problem) logger.warn(`Not ready: ${problem}`);
      else logger.info('Ready again');
    }
    last = { at: performance.now(), problem };
    return problem;
  }

  /** Answers /healthz and /readyz: 200 or 503, `{ status, problem? }`, never cached. */
  return async function serveHealth(req: IncomingMessage, res: ServerResponse, path: string) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
    }
    const problem = path === '/readyz' ? await readiness() : null;
    const body = problem ? { status: 'unavailable', problem } : { status: 'ok' };
    res.writeHead(problem ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
  };
}
