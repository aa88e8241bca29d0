// `npm run db:seed`, run for real against a temporary database: an admin and a user who
// sign in with the printed password and own demo notes; a second run adds nothing; it
// refuses to touch a production database.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { createClient } from '../helpers/client.ts';
import { randomSecret } from '../helpers/config.ts';
import { spawnScript, startServer } from '../helpers/server.ts';

function project(nodeEnv: string) {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'));
  writeFileSync(
    join(dir, '.env'),
    `NODE_ENV=${nodeEnv}\nJWT_SECRET=${randomSecret()}\nENCRYPTION_KEY=${randomSecret()}\nARGON2_MEMORY_KIB=1024\nARGON2_TIME_COST=1\n` +
      'APP_ORIGIN=https://app.example.com\nSMTP_URL=smtp://127.0.0.1:1\nMAIL_FROM=a@example.com\n',
  );
  return dir;
}

async function seed(dir: string) {
  const run = spawnScript('scripts/seed.ts', dir, {});
  return { code: await run.exitCode, output: run.output() };
}

test('creates an admin and a user with demo notes, signing in with the password it prints once; then adds nothing', async () => {
  const dir = project('test');
  const first = await seed(dir);
  expect(first.code, first.output).toBe(0);
  expect(first.output).toMatch(/Created admin@example\.com \(admin\) and user@example\.com \(user\) with demo notes/);
  const password = /shown once \(development only\): (\S+)/.exec(first.output)?.[1];
  expect(password).toBeDefined();

  const second = await seed(dir);
  expect(second.code).toBe(0);
  expect(second.output).toMatch(/^Nothing to add/);
  expect(second.output).not.toContain(password!);

  const server = await startServer({ db: await openDatabase(join(dir, 'data/app.db')) });
  try {
    expect(await server.db.select().from(server.db.tables.notes)).toHaveLength(5);
    for (const [email, role, count] of [
      ['admin@example.com', 'admin', 5],
      ['user@example.com', 'user', 3],
    ] as const) {
      const client = createClient(server.url, server.config.appOrigin);
      const signedIn = await client.mutate<{ user: { role: string } }>('auth.login', { email, password });
      expect(signedIn.body.result?.data.user.role).toBe(role);
      const list = await client.query<{ notes: unknown[] }>('note.list');
      expect(list.body.result?.data.notes).toHaveLength(count);
    }
  } finally {
    await server.close();
  }
});

test('refuses to run with NODE_ENV=production, in one line, creating nothing', async () => {
  const dir = project('production');
  const { code, output } = await seed(dir);
  expect(code).toBe(1);
  expect(output).toBe(
    'db:seed: refusing to run with NODE_ENV=production: it creates accounts with a password printed on screen.\n',
  );
  expect(existsSync(join(dir, 'data'))).toBe(false);
});
