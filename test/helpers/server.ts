// Real servers for tests: in-process on port 0, or the real entry point spawned
// as a child process (for boot and shutdown behaviour).
import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, connect, createServer } from 'node:net';
import { afterEach } from 'vitest';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Db } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { createApp } from '../../server/app.ts';
import { createServices } from '../../server/context.ts';
import { type Logger, createLogger } from '../../server/logger.ts';
import { testConfig } from './config.ts';
import { openTestDatabase } from './database.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Node with tsx's loader, as `tsx` itself runs it, but in one process: the `tsx` command is a
 * wrapper that spawns node, so killing it (kill -9 in a crash test) would leave the real
 * server running.
 */
const NODE_WITH_TSX = [
  '--require',
  `${ROOT}node_modules/tsx/dist/preflight.cjs`,
  '--import',
  pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href,
];

/** A clock tests move by hand: expiry is tested without sleeping. */
export function createClock(start = new Date()) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

/**
 * Starts the app in-process on a fresh database of this run's engine (database.ts), or on
 * `db`, to restart on one.
 *
 * @example
 * const server = await startServer({ vars: { ACCESS_TOKEN_TTL: '60' }, clock })
 */
export async function startServer(
  options: {
    vars?: Record<string, string>;
    clock?: { now: () => Date };
    db?: Db;
    logger?: Logger;
    /** A fixed port, to restart a server where others (a JWKS client) expect it. Default: any free one. */
    port?: number;
  } = {},
) {
  const config = testConfig(options.vars);
  const db = options.db ?? (await openTestDatabase());
  await migrateDatabase(db);
  const now = options.clock?.now ?? (() => new Date());
  const logger = options.logger ?? createLogger('error');
  const services = await createServices({ db, config, logger, now });
  services.mail.start();
  services.revocations.start();
  const server = createApp(services);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    config,
    services,
    /** Stops listening; the database stays open unless `closeDatabase`. */
    async close({ closeDatabase = true } = {}) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await services.mail.stop();
      await services.revocations.stop();
      if (closeDatabase) await db.close();
    },
  };
}

export interface SpawnedServer {
  child: ChildProcess;
  output: () => string;
  /** The base URL once it listens, or null when the process exited first. */
  url: Promise<string | null>;
  exitCode: Promise<number | null>;
}

/**
 * Runs `server/main.ts` (or another script) in `cwd` with exactly `env` (plus PATH),
 * so no developer's .env or shell variables leak in.
 */
export function spawnScript(
  script: string,
  cwd: string,
  env: Record<string, string>,
  args: string[] = [],
): SpawnedServer {
  const child = spawn(process.execPath, [...NODE_WITH_TSX, `${ROOT}${script}`, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const exitCode = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string | null>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exitCode.then(() => resolve(null));
  });
  return { child, output: () => output, url, exitCode };
}

/** Resolves with whether anything accepts TCP connections on the port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port that was free a moment ago (for child processes that must be told one). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs `use` against a fresh server and always closes it. @example await withServer({}, async (server) => …) */
export async function withServer<T>(
  options: Parameters<typeof startServer>[0],
  use: (server: Awaited<ReturnType<typeof startServer>>) => Promise<T>,
): Promise<T> {
  const server = await startServer(options);
  try {
    return await use(server);
  } finally {
    await server.close();
  }
}

/**
 * A `startServer` whose servers are closed after each test of the calling file.
 * Databases stay open when tests restart a server on the same one.
 *
 * @example const start = startServersPerTest(); const server = await start({ clock });
 */
export function startServersPerTest({ closeDatabase = true } = {}) {
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close({ closeDatabase })));
  });
  return async (options: Parameters<typeof startServer>[0] = {}) => {
    const server = await startServer(options);
    servers.push(server);
    return server;
  };
}
