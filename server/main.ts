// The server's entry point: load the config (refuse to start on a bad one), open
// and migrate the database, listen, and shut down gracefully on SIGINT/SIGTERM.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DatabaseUrlError, openDatabase } from '../db/client.ts';
import { MigrationError, migrateDatabase } from '../db/migrate.ts';
import { describeConnectionError } from '../db/postgres.ts';
import { createApp } from './app.ts';
import { createServices } from './context.ts';
import { ConfigError, envFileWarnings, loadConfig } from './env.ts';
import { createLogger } from './logger.ts';

/** In-flight requests get this long to finish after a shutdown signal. */
const SHUTDOWN_GRACE_MS = 10_000;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Runs a boot step; a known failure stops the process with its message, not a stack trace. */
async function orExit<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof MigrationError || error instanceof DatabaseUrlError;
    const unreachable = describeConnectionError(error);
    if (!known && unreachable === undefined) throw error;
    const message = known ? (error as Error).message : `Cannot use the database: ${unreachable}`;
    process.stderr.write(`Refusing to start. ${message}\n`);
    process.exit(1);
  }
}

const config = await orExit(() => loadConfig());
// JSON lines for a log collector in production; readable lines at a developer's terminal.
const logger = createLogger(config.logLevel, { format: config.nodeEnv === 'production' ? 'json' : 'pretty' });
for (const warning of envFileWarnings()) logger.warn(warning);
const db = await orExit(() => openDatabase(config.databaseUrl));
const applied = await orExit(() => migrateDatabase(db));
if (applied > 0) logger.info(`Applied ${applied} database migration(s) (${db.engine})`);
if (!config.encryptionKey) {
  logger.warn('ENCRYPTION_KEY is not set: two-step verification cannot be turned on. Run `npm run setup` to add one.');
}

// `npm run build` writes the SPA to dist/public, beside the compiled server (dist/server);
// running from source there is none, and Vite serves the SPA.
const publicDir = fileURLToPath(new URL('../public', import.meta.url));
const services = await createServices({ db, config, logger, now: () => new Date() });
const server = createApp(services, { publicDir: existsSync(publicDir) ? publicDir : undefined });

// Ended sessions keep their refresh-token chains until nothing can replay them; the
// audit log keeps AUDIT_RETENTION_DAYS.
const prune = async () => {
  const now = new Date();
  try {
    const ended = await services.sessions.prune(now);
    await services.revocations.prune(now);
    await services.limits.prune(now);
    const links = await services.emailTokens.prune(now);
    await services.signInChallenges.prune(now);
    await services.passkeys.prune(now);
    const events = await services.auditLog.prune(now, config.auditRetentionDays);
    logger.debug(`Pruned ${ended} ended session(s), ${links} expired link(s) and ${events} audit event(s)`);
  } catch (error) {
    // The database is away (a PostgreSQL restart): the next round prunes what this one missed.
    logger.error('Pruning failed', { message: (error as Error).message });
  }
};
await prune();
setInterval(() => void prune(), PRUNE_INTERVAL_MS).unref();
server.on('error', (error: NodeJS.ErrnoException) => {
  const why =
    error.code === 'EADDRINUSE'
      ? `the port is in use (another copy of the server?): stop that program, or set PORT to a free port`
      : error.code === 'EACCES'
        ? 'this user may not use that port (below 1024?): set PORT to 1024 or above'
        : error.message;
  logger.error(`Cannot listen on ${config.host}:${config.port}: ${why}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  // Mail queued before a crash or while SMTP was down goes out now.
  services.mail.start();
  // Revocations made by the other processes on this database.
  services.revocations.start();
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  logger.info(`Listening on http://${host}:${port} (${config.nodeEnv})`);
});

function shutdown(signal: string) {
  logger.info(`${signal} received: finishing in-flight requests`);
  const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
  server.close(() => {
    clearTimeout(force);
    void (async () => {
      await services.mail.stop();
      await services.revocations.stop();
      // Rate-limit hits are counted in memory and written in batches: write what is pending.
      await services.auditLog.flush();
      await db.close();
      logger.info('Server stopped');
    })()
      .catch((error: unknown) => logger.error('Shutdown failed', { message: (error as Error).message }))
      .finally(() => process.exit(0));
  });
  // Keep-alive connections with no request in flight would hold close() open.
  server.closeIdleConnections();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
