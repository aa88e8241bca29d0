// Two (or more) real server processes on one database, as behind a load balancer: a SQLite
// file on this machine, or one database on the PostgreSQL server (TEST_DATABASE_URL).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, openDatabase } from '../../db/client.ts';
import { insertVerifiedUser } from '../../server/auth/accounts.ts';
import type { Role } from '../../server/auth/roles.ts';
import { createPasswordHasher } from '../../server/auth/passwords.ts';
import { randomSecret, testConfig } from '../helpers/config.ts';
import { TEST_ENGINE, createPostgresDatabase } from '../helpers/database.ts';
import { type SpawnedServer, spawnScript } from '../helpers/server.ts';
import { PASSWORD } from '../helpers/users.ts';

export const ORIGIN = 'http://localhost:5173';

/** Which engine these processes share: PostgreSQL when the run has a server, else a SQLite file. */
export const SHARED_ENGINE = TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

export interface Instances {
  urls: string[];
  servers: SpawnedServer[];
  databaseUrl: string;
  /** Opens the shared database from the test (close it). */
  open: () => Promise<Db>;
  /** Accounts with PASSWORD, written as `npm run user:create` would. */
  addUsers: (emails: string[], role?: Role) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * Starts `count` processes of server/main.ts on one database with one signing key, so a
 * token from one is good on the others, exactly as N instances behind a proxy.
 */
export async function startInstances(count = 2, vars: Record<string, string> = {}): Promise<Instances> {
  const dir = mkdtempSync(join(tmpdir(), 'instances-'));
  const postgres = SHARED_ENGINE === 'postgres' ? await createPostgresDatabase() : null;
  const databaseUrl = postgres?.url ?? join(dir, 'app.db');
  const env = {
    NODE_ENV: 'test',
    JWT_SECRET: randomSecret(),
    ENCRYPTION_KEY: randomSecret(),
    DATABASE_URL: databaseUrl,
    TRUST_PROXY: '1',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ...vars,
  };
  writeFileSync(
    join(dir, '.env'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  // One at a time: the first applies the migrations (on PostgreSQL the others would wait for its lock anyway).
  const servers: SpawnedServer[] = [];
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const server = spawnScript('server/main.ts', dir, { PORT: '0' });
    servers.push(server);
    const url = await server.url;
    if (!url) throw new Error(`instance ${i} did not start:\n${server.output()}`);
    urls.push(url);
  }
  const open = () => openDatabase(databaseUrl);
  return {
    urls,
    servers,
    databaseUrl,
    open,
    async addUsers(emails, role) {
      const passwordHash = await createPasswordHasher(testConfig().passwords).hash(PASSWORD);
      const db = await open();
      try {
        for (const email of emails) await insertVerifiedUser(db, { email, passwordHash, role }, new Date());
      } finally {
        await db.close();
      }
    },
    async stop() {
      for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGTERM');
      await Promise.all(servers.map((server) => server.exitCode));
      await postgres?.drop();
    },
  };
}
