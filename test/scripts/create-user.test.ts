// `npm run user:create`, run for real against a temporary database: the account it makes
// is verified and signs in.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { createClient } from '../helpers/client.ts';
import { randomSecret } from '../helpers/config.ts';
import { spawnScript, startServer } from '../helpers/server.ts';

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'create-user-'));
  writeFileSync(
    join(dir, '.env'),
    `NODE_ENV=test\nJWT_SECRET=${randomSecret()}\nENCRYPTION_KEY=${randomSecret()}\nARGON2_MEMORY_KIB=1024\nARGON2_TIME_COST=1\n`,
  );
  return dir;
}

async function createUser(dir: string, args: string[], password: string) {
  const run = spawnScript('scripts/create-user.ts', dir, {}, args);
  run.child.stdin?.end(`${password}\n`);
  return { code: await run.exitCode, output: run.output() };
}

const usersIn = (dir: string) => {
  const db = new Database(join(dir, 'data/app.db'), { readonly: true });
  // better-sqlite3 itself: this reads what the script left on disk.
  // eslint-disable-next-line no-restricted-syntax
  const rows = db.prepare('SELECT email, role, password_hash AS hash FROM users').all() as {
    email: string;
    role: string;
    hash: string;
  }[];
  db.close();
  return rows;
};

test('creates a verified admin with the password read from standard input, who can sign in with it', async () => {
  const dir = project();
  const { code, output } = await createUser(
    dir,
    ['--email', ' Root@Example.com', '--role', 'admin'],
    'a long admin password',
  );
  expect(code, output).toBe(0);
  expect(output).toMatch(/^Created admin root@example\.com \(id [A-Za-z0-9_-]{22}\)\.\n$/);
  expect(output).not.toContain('a long admin password');
  const [user] = usersIn(dir);
  expect(user).toMatchObject({ email: 'root@example.com', role: 'admin' });
  expect(user?.hash).toMatch(/^\$argon2id\$/);

  // Verified: it signs in at once (an unverified account could not).
  const server = await startServer({ db: await openDatabase(join(dir, 'data/app.db')) });
  try {
    const res = await createClient(server.url, server.config.appOrigin).mutate<{ user: { role: string } }>(
      'auth.login',
      { email: 'root@example.com', password: 'a long admin password' },
    );
    expect(res.status).toBe(200);
    expect(res.body.result?.data.user.role).toBe('admin');
  } finally {
    await server.close();
  }
});

test('refuses a duplicate e-mail, an unknown role and a short password with clear messages', async () => {
  const dir = project();
  await createUser(dir, ['--email', 'a@example.com'], 'a long password');
  const duplicate = await createUser(dir, ['--email', 'A@example.com'], 'another password');
  expect(duplicate.code).toBe(1);
  expect(duplicate.output).toContain('already exists');
  const badInput = await createUser(dir, ['--email', 'b@example.com', '--role', 'boss'], 'short');
  expect(badInput.code).toBe(1);
  expect(badInput.output).toContain('role: Invalid option');
  expect(badInput.output).toContain('Password must be at least 8 characters');
  expect(usersIn(dir)).toHaveLength(1);
});

test('has no --password option: passwords never go on the command line', async () => {
  const { code, output } = await createUser(project(), ['--email', 'c@example.com', '--password', 'secret123'], '');
  expect(code).toBe(1);
  expect(output).toContain("Unknown option '--password'");
});
