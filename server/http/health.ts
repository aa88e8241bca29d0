// Plain HTTP probes for load balancers and orchestrators, outside tRPC (no auth, no CSRF
// check, no JSON-RPC envelope): GET /healthz says the process answers; GET /readyz says it
// can serve, that is the database answers and holds every migration this code ships.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../../db/client.ts';
import { pendingMigrations } from '../../db/migrate.ts';

export const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

/** A readiness check slower than this counts as a failure: a stuck database is not ready. */
const READY_TIMEOUT_MS = 2_000;

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

/** Answers /healthz and /readyz: 200 or 503, `{ status, problem? }`, never cached. */
export async function serveHealth(req: IncomingMessage, res: ServerResponse, path: string, db: Db) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
  }
  const problem = path === '/readyz' ? await withTimeout(readinessProblem(db)) : null;
  const body = problem ? { status: 'unavailable', problem } : { status: 'ok' };
  res.writeHead(problem ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
}
