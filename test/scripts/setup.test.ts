// `npm run setup`, run for real in a temporary project folder.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../server/env.ts';
import { type AsymmetricAlgorithm, generateKeyPair } from '../../server/auth/signing-keys.ts';
import { randomSecret } from '../helpers/config.ts';
import { TEST_ENGINE, onServer, withDatabase } from '../helpers/database.ts';
import { ROOT, spawnScript } from '../helpers/server.ts';

function newProject() {
  const dir = mkdtempSync(join(tmpdir(), 'setup-'));
  copyFileSync(join(ROOT, '.env.example'), join(dir, '.env.example'));
  return dir;
}

async function setup(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const run = spawnScript('scripts/setup.ts', dir, env, args);
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
  expect(output).toContain('Generated ENCRYPTION_KEY');
  expect(output).toMatch(/Database data\/app\.db \(SQLite\): applied \d+ migration/);

  const secret = secretOf(dir);
  const encryptionKey = secretOf(dir, 'ENCRYPTION_KEY');
  for (const value of [secret, encryptionKey]) {
    expect(Buffer.from(value, 'base64url')).toHaveLength(32);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(output).not.toContain(value);
  }
  expect(encryptionKey).not.toBe(secret);
  if (process.platform !== 'win32') expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);

  // Every other line of .env.example is kept, comments included.
  const example = readFileSync(join(dir, '.env.example'), 'utf8');
  expect(readEnv(dir)).toBe(
    example
      .replace(/^JWT_SECRET=$/m, `JWT_SECRET=${secret}`)
      .replace(/^ENCRYPTION_KEY=$/m, `ENCRYPTION_KEY=${encryptionKey}`),
  );

  const db = new Database(join(dir, 'data/app.db'), { readonly: true });
  // better-sqlite3 itself, not the app's query builder: this reads what setup left on disk.
  // eslint-disable-next-line no-restricted-syntax
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
  expect(output.trim()).toBe('Nothing to change: .env is complete and data/app.db (SQLite) is up to date.');
  expect(readEnv(dir)).toBe(before);
});

test('two projects get different secrets', async () => {
  const [a, b] = [newProject(), newProject()];
  await Promise.all([setup(a), setup(b)]);
  expect(secretOf(a)).not.toBe(secretOf(b));
});

test('never overwrites a value that is set', async () => {
  const dir = newProject();
  const own = `# mine\nJWT_SECRET=${randomSecret()}\nENCRYPTION_KEY=${randomSecret()}\nPORT=4001\nDATABASE_URL=var/my.db\n`;
  writeFileSync(join(dir, '.env'), own, { mode: 0o600 });
  const { code, output } = await setup(dir);
  expect(code, output).toBe(0);
  expect(output).toContain('Database var/my.db (SQLite): applied');
  expect(output).not.toContain('Generated');
  expect(readEnv(dir)).toBe(own);
});

test('an .env from before ENCRYPTION_KEY existed gets one added, and keeps the rest', async () => {
  const dir = newProject();
  const own = `JWT_SECRET=${randomSecret()}\nDATABASE_URL=var/old.db\n`;
  writeFileSync(join(dir, '.env'), own, { mode: 0o600 });
  const { code, output } = await setup(dir);
  expect(code, output).toBe(0);
  expect(output).toContain('Generated ENCRYPTION_KEY (32 random bytes).');
  expect(readEnv(dir)).toBe(`${own}ENCRYPTION_KEY=${secretOf(dir, 'ENCRYPTION_KEY')}\n`);
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

// --- JWT_ALG=EdDSA / ES256: a private key instead of a secret ---------------------------

/** A new project whose .env.example says JWT_ALG=`alg`, as a developer sets it before setup. */
function newProjectWith(alg: AsymmetricAlgorithm) {
  const dir = newProject();
  const example = readFileSync(join(dir, '.env.example'), 'utf8');
  writeFileSync(join(dir, '.env.example'), example.replace(/^JWT_ALG=$/m, `JWT_ALG=${alg}`));
  return dir;
}

const CURVE = {
  EdDSA: { asymmetricKeyType: 'ed25519', namedCurve: undefined },
  ES256: { asymmetricKeyType: 'ec', namedCurve: 'prime256v1' },
} as const;

const privateKeyOf = (pkcs8: string) =>
  createPrivateKey({ key: Buffer.from(pkcs8, 'base64url'), format: 'der', type: 'pkcs8' });
/** The key type and curve of a base64url PKCS#8 key. */
function curveOf(pkcs8: string) {
  const key = privateKeyOf(pkcs8);
  return { asymmetricKeyType: key.asymmetricKeyType, namedCurve: key.asymmetricKeyDetails?.namedCurve };
}
/** Its public half, base64url SPKI: what --rotate must keep. */
const publicHalfOf = (pkcs8: string) =>
  createPublicKey(privateKeyOf(pkcs8)).export({ format: 'der', type: 'spki' }).toString('base64url');

describe.each<AsymmetricAlgorithm>(['EdDSA', 'ES256'])('JWT_ALG=%s', (alg) => {
  test('first run generates JWT_PRIVATE_KEY of the right curve, no JWT_SECRET, prints no key, and .env boots', async () => {
    const dir = newProjectWith(alg);
    const { code, output } = await setup(dir);
    expect(code, output).toBe(0);
    expect(output).toContain(`Generated JWT_PRIVATE_KEY (${alg === 'EdDSA' ? 'Ed25519' : 'P-256'})`);
    expect(output).not.toContain('JWT_SECRET');

    const key = secretOf(dir, 'JWT_PRIVATE_KEY');
    expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(curveOf(key)).toEqual(CURVE[alg]);
    expect(secretOf(dir, 'JWT_SECRET')).toBe('');
    expect(output).not.toContain(key);
    expect(output).not.toContain(key.slice(-40)); // nor its tail (the key material itself)
    if (process.platform !== 'win32') expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);

    const config = parseConfig(parseEnv(readEnv(dir)));
    expect(config.jwt.alg).toBe(alg);
    expect(config.jwt.secret).toBeUndefined();
  });

  test('JWT_ALG from the environment (not .env) also gets a private key', async () => {
    const dir = newProject();
    const { code, output } = await setup(dir, [], { JWT_ALG: alg });
    expect(code, output).toBe(0);
    const key = secretOf(dir, 'JWT_PRIVATE_KEY');
    expect(curveOf(key)).toEqual(CURVE[alg]);
    expect(secretOf(dir, 'JWT_SECRET')).toBe('');
    expect(output).not.toContain(key);
    // It boots under that same environment (a real variable wins over .env).
    expect(parseConfig({ ...parseEnv(readEnv(dir)), JWT_ALG: alg }).jwt.alg).toBe(alg);
  });

  test('--rotate gives a new key and keeps the old public half as JWT_PUBLIC_KEY_PREVIOUS until now + ACCESS_TOKEN_TTL', async () => {
    const dir = newProjectWith(alg);
    await setup(dir);
    const old = secretOf(dir, 'JWT_PRIVATE_KEY');
    const before = Date.now();
    const { code, output } = await setup(dir, ['--rotate']);
    expect(code, output).toBe(0);
    expect(output).toContain('Rotated JWT_PRIVATE_KEY');

    const current = secretOf(dir, 'JWT_PRIVATE_KEY');
    expect(current).not.toBe(old);
    expect(curveOf(current)).toEqual(CURVE[alg]);
    expect(secretOf(dir, 'JWT_PUBLIC_KEY_PREVIOUS')).toBe(publicHalfOf(old));
    for (const key of [old, current]) expect(output).not.toContain(key);
    expect(readEnv(dir)).not.toContain(old); // only the public half of the old key is kept
    expect(secretOf(dir, 'JWT_SECRET')).toBe('');
    expect(secretOf(dir, 'JWT_SECRET_PREVIOUS')).toBe('');

    const until = Date.parse(secretOf(dir, 'JWT_PUBLIC_KEY_PREVIOUS_UNTIL'));
    expect(until - before).toBeGreaterThanOrEqual(899_000);
    expect(until - Date.now()).toBeLessThanOrEqual(900_000);
    if (process.platform !== 'win32') expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);

    const config = parseConfig(parseEnv(readEnv(dir)));
    expect(config.jwt.previousPublicKey?.export({ format: 'der', type: 'spki' }).toString('base64url')).toBe(
      publicHalfOf(old),
    );
    expect(config.jwt.previousPublicKeyUntil?.getTime()).toBe(until);
  });

  test('--rotate follows ACCESS_TOKEN_TTL for the window', async () => {
    const dir = newProjectWith(alg);
    await setup(dir);
    writeFileSync(join(dir, '.env'), readEnv(dir).replace(/^ACCESS_TOKEN_TTL=$/m, 'ACCESS_TOKEN_TTL=120'));
    const before = Date.now();
    expect((await setup(dir, ['--rotate'])).code).toBe(0);
    const until = Date.parse(secretOf(dir, 'JWT_PUBLIC_KEY_PREVIOUS_UNTIL'));
    expect(until - before).toBeGreaterThanOrEqual(119_000);
    expect(until - Date.now()).toBeLessThanOrEqual(120_000);
  });

  test('--rotate again inside the window asks for --force, and --force moves the middle key to previous', async () => {
    const dir = newProjectWith(alg);
    await setup(dir);
    await setup(dir, ['--rotate']);
    const env = readEnv(dir);
    const refused = await setup(dir, ['--rotate']);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('JWT_PUBLIC_KEY_PREVIOUS still verifies tokens until');
    expect(refused.output).toContain('--force');
    expect(readEnv(dir)).toBe(env);

    const middle = secretOf(dir, 'JWT_PRIVATE_KEY');
    const forced = await setup(dir, ['--rotate', '--force']);
    expect(forced.code, forced.output).toBe(0);
    expect(secretOf(dir, 'JWT_PUBLIC_KEY_PREVIOUS')).toBe(publicHalfOf(middle));
    expect(secretOf(dir, 'JWT_PRIVATE_KEY')).not.toBe(middle);
    expect(forced.output).not.toContain(middle);
  });

  test('--rotate --drop-previous leaves no previous key at all, and .env boots', async () => {
    const dir = newProjectWith(alg);
    await setup(dir);
    await setup(dir, ['--rotate']);
    const rotated = secretOf(dir, 'JWT_PRIVATE_KEY');
    const { code, output } = await setup(dir, ['--rotate', '--drop-previous']);
    expect(code, output).toBe(0);
    expect(output).toContain('dropped the previous key');
    expect(secretOf(dir, 'JWT_PRIVATE_KEY')).not.toBe(rotated);
    expect(secretOf(dir, 'JWT_PUBLIC_KEY_PREVIOUS')).toBe('');
    expect(secretOf(dir, 'JWT_PUBLIC_KEY_PREVIOUS_UNTIL')).toBe('');
    expect(parseConfig(parseEnv(readEnv(dir))).jwt.previousPublicKey).toBeUndefined();
  });

  test('refuses a key of the other curve that is already set, explains the fix, prints no key, leaves .env alone', async () => {
    const dir = newProjectWith(alg);
    const wrong = generateKeyPair(alg === 'EdDSA' ? 'ES256' : 'EdDSA').privateKey;
    const own = `JWT_ALG=${alg}\nJWT_PRIVATE_KEY=${wrong}\n`;
    writeFileSync(join(dir, '.env'), own, { mode: 0o600 });
    for (const args of [[], ['--rotate']]) {
      const { code, output } = await setup(dir, args);
      expect(code, args.join(' ')).toBe(1);
      expect(output).toMatch(/JWT_PRIVATE_KEY is an (EC prime256v1|Ed25519) key, but JWT_ALG=/);
      expect(output).toContain('empty a bad secret');
      expect(output).not.toContain(wrong);
      expect(readEnv(dir)).toBe(own);
    }
  });
});

test('with a PostgreSQL that does not answer, says so in one line and exits 1', async () => {
  const dir = newProject();
  const { code, output } = await setup(dir, [], { DATABASE_URL: 'postgres://app:s3cret@127.0.0.1:1/app' });
  expect(code).toBe(1);
  expect(output.trim()).toBe(
    'setup: Cannot set up the database postgres://app:***@127.0.0.1:1/app (PostgreSQL): ' +
      'nothing answers at that address: is PostgreSQL running?',
  );
});

test.skipIf(TEST_ENGINE !== 'postgres')(
  'on PostgreSQL, creates the database when the server has none by that name, migrates it, and says which engine',
  async () => {
    const name = `trpc_setup_${process.pid}_${Date.now()}`;
    const url = withDatabase(process.env.TEST_DATABASE_URL!, name);
    try {
      const dir = newProject();
      const first = await setup(dir, [], { DATABASE_URL: url });
      expect(first.code, first.output).toBe(0);
      expect(first.output).toContain(`Created the PostgreSQL database ${url}.`);
      expect(first.output).toMatch(/\(PostgreSQL\): applied \d+ migration\(s\)\./);
      const second = await setup(dir, [], { DATABASE_URL: url });
      expect(second.output.trim()).toBe(`Nothing to change: .env is complete and ${url} (PostgreSQL) is up to date.`);
    } finally {
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  },
);
