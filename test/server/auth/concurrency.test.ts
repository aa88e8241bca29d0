// Concurrent refreshes across many sessions, served by two real server processes that
// share one database: on SQLite one file, where IMMEDIATE transactions, WAL and the busy
// timeout must keep every token chain intact, with no 500 and no SQLITE_BUSY reaching a
// client; on PostgreSQL one database, where SERIALIZABLE transactions, run again when the
// server aborts one for a conflict, must do the same.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { insertVerifiedUser } from '../../../server/auth/accounts.ts';
import { REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../../../server/auth/cookies.ts';
import { createPasswordHasher } from '../../../server/auth/passwords.ts';
import { createClient, randomIp } from '../../helpers/client.ts';
import { randomSecret, testConfig } from '../../helpers/config.ts';
import { TEST_ENGINE, createPostgresDatabase } from '../../helpers/database.ts';
import { spawnScript } from '../../helpers/server.ts';
import { PASSWORD } from '../../helpers/users.ts';

// 2 × 200 racing refreshes: 50 sessions, 4 rounds, two tabs (one per process) each time.
const SESSIONS = 50;
const ROUNDS = 4;
const ORIGIN = 'http://localhost:5173';

// Two processes need a database both can open: a SQLite file, or one database on the
// PostgreSQL server. PGlite runs inside this test process, so no other process can reach it.
test.skipIf(TEST_ENGINE === 'pglite')(
  'hundreds of racing refreshes on two processes: no errors, one live token per session, intact chains',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concurrency-'));
    const postgres = TEST_ENGINE === 'postgres' ? await createPostgresDatabase() : null;
    // The servers run in `dir`, where SQLite's app.db is; the tests' handles open it from here.
    const databaseUrl = postgres?.url ?? join(dir, 'app.db');
    writeFileSync(
      join(dir, '.env'),
      `NODE_ENV=test\nJWT_SECRET=${randomSecret()}\nENCRYPTION_KEY=${randomSecret()}\nDATABASE_URL=${postgres?.url ?? 'app.db'}\nTRUST_PROXY=1\nARGON2_MEMORY_KIB=1024\nARGON2_TIME_COST=1\nLOG_LEVEL=info\n`,
    );
    try {
      await raceTwoProcesses(dir, databaseUrl);
    } finally {
      await postgres?.drop();
    }
  },
);

async function raceTwoProcesses(dir: string, databaseUrl: string) {
  const servers = [
    spawnScript('server/main.ts', dir, { PORT: '0' }),
    spawnScript('server/main.ts', dir, { PORT: '0' }),
  ];
  try {
    const urls = (await Promise.all(servers.map((s) => s.url))) as string[];
    expect(urls.every(Boolean), servers.map((s) => s.output()).join('\n')).toBe(true);

    // Accounts written to the shared database as `npm run user:create` would (both processes
    // migrated it at boot); one hash at the servers' cheap parameters serves them all.
    const emails = Array.from({ length: SESSIONS }, (_, i) => `race-${i}@example.com`);
    const passwordHash = await createPasswordHasher(testConfig().passwords).hash(PASSWORD);
    const shared = await openDatabase(databaseUrl);
    try {
      for (const email of emails) await insertVerifiedUser(shared, { email, passwordHash }, new Date());
    } finally {
      await shared.close();
    }

    // One device per session, each signed in through either process and holding its
    // refresh token like a browser would.
    const devices = await Promise.all(
      emails.map(async (email, i) => {
        const ip = randomIp();
        const client = createClient(urls[i % 2]!, ORIGIN, undefined, ip);
        const res = await client.mutate('auth.login', { email, password: PASSWORD });
        expect(res.status).toBe(200);
        return { ip, token: client.cookie(REFRESH_COOKIE)! };
      }),
    );

    const statuses: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Two tabs per device refresh at the same moment, one through each process.
      await Promise.all(
        devices.map(async (device) => {
          const tabs = urls.map((url) => {
            const tab = createClient(url, ORIGIN, undefined, device.ip);
            tab.setCookie(REFRESH_COOKIE, device.token, REFRESH_COOKIE_PATH);
            return tab;
          });
          const results = await Promise.all(tabs.map((tab) => tab.mutate('auth.refresh')));
          statuses.push(...results.map((r) => r.status));
          const rotated = tabs.map((tab) => tab.cookie(REFRESH_COOKIE)).find((t) => t && t !== device.token);
          if (rotated) device.token = rotated;
        }),
      );
    }
    expect(statuses).toHaveLength(SESSIONS * ROUNDS * 2);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exitCode));
  }
  // A conflict PostgreSQL reports (could not serialize, deadlock) must be retried, never logged as a failure.
  for (const server of servers) {
    expect(server.output()).not.toMatch(/SQLITE_BUSY|failed|could not serialize|deadlock/);
  }

  const db = await openDatabase(databaseUrl);
  const { sessions, refreshTokens } = db.tables;
  const allSessions = await db.select().from(sessions);
  const tokens = await db.select().from(refreshTokens);
  await db.close();
  expect(allSessions).toHaveLength(SESSIONS);
  for (const session of allSessions) {
    expect(session.revokedAt, 'no race looked like reuse').toBeNull();
    const chain = tokens.filter((t) => t.sessionId === session.id);
    const live = chain.filter((t) => t.usedAt === null);
    expect(live).toHaveLength(1);
    // Walk from the first token along replacedById: it must visit every token and end at the live one.
    const byId = new Map(chain.map((t) => [t.id, t]));
    const successors = new Set(chain.map((t) => t.replacedById));
    let current = chain.find((t) => !successors.has(t.id));
    let visited = 0;
    while (current?.replacedById) {
      visited++;
      current = byId.get(current.replacedById);
    }
    expect(visited + 1).toBe(chain.length);
    expect(current?.id).toBe(live[0]?.id);
    expect(chain.length).toBe(ROUNDS + 1);
  }
}
