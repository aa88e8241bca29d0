// `npm run setup`, run for real in a temporary project folder.
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { randomSecret } from '../helpers/config.ts';
import { ROOT, spawnScript } from '../helpers/server.ts';

function newProject() {
  const dir = mkdtempSync(join(tmpdir(), 'setup-'));
  copyFileSync(join(ROOT, '.env.example'), join(dir, '.env.example'));
  return dir;
}

async function setup(dir: string, args: string[] = []) {
  const run = spawnScript('scripts/setup.ts', dir, {}, args);
  return { code: await run.exitCode, output: run.output() };
}

const readEnv = (dir: string) => readFileSync(join(dir, '.env'), 'utf8');
const secretOf = (dir: string, key = 'JWT_SECRET') => parseEnv(readEnv(dir))[key] ?? '';

test('first run creates .env (0600) with a 32-byte secret and a migrated database', async () => {
  const dir = newProject();
  const { code, output } = await setup(dir);
  expect(code, output).toBe(0);
  expect(output).toContain('Created .env from .env.example');
  expect(output).toContain('Generated JWT_SECRET');
  expect(output).toMatch(/Database data\/app\.db: applied \d+ migration/);

  const secret = secretOf(dir);
  expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(output).not.toContain(secret);
  if (process.platform !== 'win32') expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);

  // Every other line of .env.example is kept, comments included.
  const example = readFileSync(join(dir, '.env.example'), 'utf8');
  expect(readEnv(dir)).toBe(example.replace(/^JWT_SECRET=$/m, `JWT_SECRET=${secret}`));

  const db = new Database(join(dir, 'data/app.db'), { readonly: true });
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
  db.close();
  expect(tables).toEqual(expect.arrayContaining(['users', 'sessions', 'refresh_tokens']));
});

test('a second run changes nothing and says so', async () => {
  const dir = newProject();
  await setup(dir);
  const before = readEnv(dir);
  const { code, output } = await setup(dir);
  expect(code).toBe(0);
  expect(output.trim()).toBe('Nothing to change: .env is complete and data/app.db is up to date.');
  expect(readEnv(dir)).toBe(before);
});

test('two projects get different secrets', async () => {
  const [a, b] = [newProject(), newProject()];
  await Promise.all([setup(a), setup(b)]);
  expect(secretOf(a)).not.toBe(secretOf(b));
});

test('never overwrites a value that is set', async () => {
  const dir = newProject();
  const own = `# mine\nJWT_SECRET=${randomSecret()}\nPORT=4001\nDATABASE_URL=var/my.db\n`;
  writeFileSync(join(dir, '.env'), own, { mode: 0o600 });
  const { code, output } = await setup(dir);
  expect(code, output).toBe(0);
  expect(output).toContain('Database var/my.db: applied');
  expect(output).not.toContain('Generated');
  expect(readEnv(dir)).toBe(own);
});

test('refuses a weak secret that is already set, explains the fix, and leaves .env alone', async () => {
  const dir = newProject();
  writeFileSync(join(dir, '.env'), 'JWT_SECRET=changeme\n', { mode: 0o600 });
  const { code, output } = await setup(dir);
  expect(code).toBe(1);
  expect(output).toMatch(/JWT_SECRET is a well-known example value/);
  expect(output).toContain('empty a bad secret');
  expect(readEnv(dir)).toBe('JWT_SECRET=changeme\n');
});

test('--rotate keeps the old secret as JWT_SECRET_PREVIOUS until one access lifetime from now, and generates a new one', async () => {
  const dir = newProject();
  await setup(dir);
  const old = secretOf(dir);
  const before = Date.now();
  const { code, output } = await setup(dir, ['--rotate']);
  expect(code, output).toBe(0);
  expect(output).toContain('Rotated JWT_SECRET');
  expect(secretOf(dir, 'JWT_SECRET_PREVIOUS')).toBe(old);
  expect(secretOf(dir)).not.toBe(old);
  expect(Buffer.from(secretOf(dir), 'base64url')).toHaveLength(32);
  expect(output).not.toContain(old);
  // The window is fixed now, in .env: a restart tomorrow cannot reopen it.
  const until = Date.parse(secretOf(dir, 'JWT_SECRET_PREVIOUS_UNTIL'));
  expect(until - before).toBeGreaterThanOrEqual(899_000);
  expect(until - Date.now()).toBeLessThanOrEqual(900_000);
});

test('--rotate again while the previous key still verifies tokens asks for --force, and --force drops it', async () => {
  const dir = newProject();
  await setup(dir);
  await setup(dir, ['--rotate']);
  const env = readEnv(dir);
  const refused = await setup(dir, ['--rotate']);
  expect(refused.code).toBe(1);
  expect(refused.output).toContain('JWT_SECRET_PREVIOUS still verifies tokens until');
  expect(refused.output).toContain('--force');
  expect(readEnv(dir)).toBe(env);

  const middle = secretOf(dir);
  const forced = await setup(dir, ['--rotate', '--force']);
  expect(forced.code, forced.output).toBe(0);
  expect(secretOf(dir, 'JWT_SECRET_PREVIOUS')).toBe(middle);
});

test('--rotate --drop-previous (a leaked key) leaves no previous key at all', async () => {
  const dir = newProject();
  await setup(dir);
  await setup(dir, ['--rotate']);
  const { code, output } = await setup(dir, ['--rotate', '--drop-previous']);
  expect(code, output).toBe(0);
  expect(output).toContain('dropped the previous key');
  expect(secretOf(dir, 'JWT_SECRET_PREVIOUS')).toBe('');
  expect(secretOf(dir, 'JWT_SECRET_PREVIOUS_UNTIL')).toBe('');
});

test('--help prints the usage and changes nothing', async () => {
  const dir = newProject();
  const { code, output } = await setup(dir, ['--help']);
  expect(code).toBe(0);
  expect(output).toContain('Usage: npm run setup');
  expect(output).toContain('--drop-previous');
  expect(() => readEnv(dir)).toThrow();
});

test('fails with a clear message outside a project folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'setup-'));
  const { code, output } = await setup(dir);
  expect(code).toBe(1);
  expect(output).toContain('neither .env nor .env.example found');
});

test('rejects an unknown option', async () => {
  const { code, output } = await setup(newProject(), ['--rotat']);
  expect(code).toBe(1);
  expect(output).toContain("Unknown option '--rotat'");
});
