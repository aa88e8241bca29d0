// What every procedure receives as `ctx`. The inner context needs no HTTP request
// (tests and server-side calls build it directly); the outer one adds the request.
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { Db } from '../db/client.ts';
import type { Config } from './env.ts';
import type { Logger } from './logger.ts';

export interface ServerDeps {
  db: Db;
  config: Config;
  logger: Logger;
  /** The clock; tests inject a fixed one instead of sleeping. */
  now: () => Date;
}

/** @example createInnerContext({ db, config, logger, now: () => new Date() }) */
export function createInnerContext(deps: ServerDeps) {
  return { ...deps, req: undefined, res: undefined };
}

export function createContextFactory(deps: ServerDeps) {
  return ({ req, res }: CreateHTTPContextOptions) => ({ ...deps, req, res });
}

export type Context =
  | ReturnType<typeof createInnerContext>
  | ReturnType<ReturnType<typeof createContextFactory>>;
