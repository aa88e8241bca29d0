// Every request's id: in each of its log lines and in its X-Request-Id response header, so a
// user's report ("it failed, id 3f2a…") finds the lines. A proxy's own id is kept when the
// proxy is trusted (TRUST_PROXY), so one id follows the request through both logs.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const HEADER = 'x-request-id';
const ids = new WeakMap<IncomingMessage, string>();

/** Gives `req` its id (once) and sends it back; returns it. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse, trustProxy: number): string {
  const incoming = req.headers[HEADER];
  const id =
    trustProxy > 0 && typeof incoming === 'string' && /^[\w.:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
  ids.set(req, id);
  res.setHeader(HEADER, id);
  return id;
}

/** The id assignRequestId gave `req` (undefined for a request that never went through it). */
export const requestIdOf = (req: IncomingMessage) => ids.get(req);
