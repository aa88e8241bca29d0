// The real entry point, spawned: it refuses to start on a bad secret or, in production,
// without a way to send mail (exit code, message, nothing listening), starts on a good
// configuration, and shuts down on SIGTERM.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { generateKeyPair } from '../../server/auth/signing-keys.ts';
import { randomSecret } from '../helpers/config.ts';
import { ROOT, freePort, isListening, spawnScript } from '../helpers/server.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'boot-'));

/** Checks the process refused to start: exit 1, nothing listening, `message` and the `fix` it names. */
async function expectRefusal(cwd: string, env: Record<string, string>, message: RegExp, fix = 'npm run setup') {
  const port = await freePort();
  const server = spawnScript('server/main.ts', cwd, { PORT: String(port), ...env });
  const url = await server.url; // null once the process has exited
  if (url) server.child.kill();
  expect(url, 'the server started').toBeNull();
  expect(await server.exitCode).toBe(1);
  expect(await isListening(port)).toBe(false);
  const output = server.output();
  expect(output).toMatch(/^Refusing to start/);
  expect(output).toMatch(message);
  expect(output).toContain(fix);
  expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace
  if (env.JWT_SECRET) expect(output).not.toContain(env.JWT_SECRET);
  return output;
}

test.each([
  ['is missing', undefined, /JWT_SECRET is missing/],
  ['is not base64url', `${randomSecret()}==`, /JWT_SECRET must be base64url/],
  ['decodes to fewer than 32 bytes', randomBytes(31).toString('base64url'), /JWT_SECRET decodes to 31 bytes/],
  ['is a known-weak value', 'your-secret-key', /JWT_SECRET is a well-known example value/],
])('refuses to start when JWT_SECRET %s', async (_, secret, message) => {
  await expectRefusal(tempDir(), secret === undefined ? {} : { JWT_SECRET: secret }, message);
});

test('refuses to start with .env copied from .env.example by hand (the placeholder)', async () => {
  const cwd = tempDir();
  copyFileSync(join(ROOT, '.env.example'), join(cwd, '.env'));
  await expectRefusal(cwd, {}, /JWT_SECRET is missing/);
});

test('a weak JWT_SECRET in the environment wins over a good one in .env, and is refused', async () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, '.env'), `JWT_SECRET=${randomSecret()}\n`);
  await expectRefusal(cwd, { JWT_SECRET: 'changeme' }, /JWT_SECRET is a well-known example value/);
});

test('refuses to start in production without SMTP_URL, before it opens a socket or a database', async () => {
  const cwd = tempDir();
  const env = {
    NODE_ENV: 'production',
    JWT_SECRET: randomSecret(),
    ENCRYPTION_KEY: randomSecret(),
    APP_ORIGIN: 'https://app.example.com',
    DATABASE_URL: 'app.db',
  };
  const output = await expectRefusal(cwd, env, /SMTP_URL is required in production/, 'smtps://');
  expect(output).toContain('MAIL_FROM');
  expect(existsSync(join(cwd, 'app.db'))).toBe(false);
});

test('starts in production while its SMTP server is down: mail waits in the outbox, boot does not', async () => {
  const cwd = tempDir();
  const server = spawnScript('server/main.ts', cwd, {
    NODE_ENV: 'production',
    JWT_SECRET: randomSecret(),
    ENCRYPTION_KEY: randomSecret(),
    APP_ORIGIN: 'https://app.example.com',
    DATABASE_URL: 'app.db',
    PORT: '0',
    SMTP_URL: `smtp://127.0.0.1:${await freePort()}`, // nothing listens there
    MAIL_FROM: 'App <no-reply@example.com>',
  });
  try {
    const url = await server.url;
    expect(url, server.output()).not.toBeNull();
    expect((await fetch(`${url}/trpc/health`)).status).toBe(200);
  } finally {
    server.child.kill('SIGTERM');
  }
  expect(await server.exitCode).toBe(0);
});

test('starts without ENCRYPTION_KEY (an .env from before it), saying once that two-step verification is off', async () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, '.env'), `JWT_SECRET=${randomSecret()}\nDATABASE_URL=app.db\n`);
  const server = spawnScript('server/main.ts', cwd, { PORT: '0' });
  const url = await server.url;
  expect(url, server.output()).not.toBeNull();
  expect(server.output().match(/ENCRYPTION_KEY is not set: two-step verification cannot be turned on/g)).toHaveLength(
    1,
  );
  server.child.kill('SIGTERM');
  expect(await server.exitCode).toBe(0);
});

test('starts with a good secret, answers health, and stops cleanly on SIGTERM', async () => {
  const cwd = tempDir();
  writeFileSync(
    join(cwd, '.env'),
    `JWT_SECRET=${randomSecret()}\nENCRYPTION_KEY=${randomSecret()}\nDATABASE_URL=db/app.db\n`,
  );
  const server = spawnScript('server/main.ts', cwd, { PORT: '0' });
  const url = await server.url;
  expect(url, server.output()).not.toBeNull();
  const port = Number(new URL(url!).port);

  // A keep-alive connection with no request in flight must not hold the shutdown open.
  const agentResponse = await new Promise<string>((resolve, reject) => {
    const req = request(`${url}/trpc/health`, { headers: { connection: 'keep-alive' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  expect(JSON.parse(agentResponse)).toEqual({ result: { data: { status: 'ok' } } });

  server.child.kill('SIGTERM');
  expect(await server.exitCode).toBe(0);
  expect(server.output()).toContain('Server stopped');
  expect(await isListening(port)).toBe(false);
  expect(existsSync(join(cwd, 'db/app.db'))).toBe(true);
  // Closing the database checkpoints the write-ahead log away.
  expect(existsSync(join(cwd, 'db/app.db-wal'))).toBe(false);
});

// --- JWT_ALG=EdDSA / ES256: the private key ---------------------------------------------

const ed25519 = () => generateKeyPair('EdDSA').privateKey;
const p256 = () => generateKeyPair('ES256').privateKey;
const pemOf = (pkcs8: string) =>
  createPrivateKey({ key: Buffer.from(pkcs8, 'base64url'), format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;

test.each<[string, Record<string, string>, RegExp]>([
  [
    'JWT_ALG=EdDSA without JWT_PRIVATE_KEY',
    { JWT_ALG: 'EdDSA' },
    /JWT_PRIVATE_KEY is missing: JWT_ALG=EdDSA signs with a private key/,
  ],
  [
    'JWT_ALG=EdDSA with a P-256 key',
    { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: p256() },
    /JWT_PRIVATE_KEY is an EC prime256v1 key, but JWT_ALG=EdDSA needs an Ed25519 key/,
  ],
  [
    'JWT_ALG=ES256 with an Ed25519 key',
    { JWT_ALG: 'ES256', JWT_PRIVATE_KEY: ed25519() },
    /JWT_PRIVATE_KEY is an Ed25519 key, but JWT_ALG=ES256 needs/,
  ],
  [
    'JWT_ALG=EdDSA with a truncated key',
    { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed25519().slice(0, 30) },
    /JWT_PRIVATE_KEY is not a PKCS#8 private key/,
  ],
  [
    'JWT_ALG=EdDSA with a PEM-armoured key',
    { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: pemOf(ed25519()) },
    /JWT_PRIVATE_KEY must be a base64url PKCS#8 DER key \(no PEM armour\)/,
  ],
])('refuses to start with %s: one line naming the problem, no key printed', async (_, env, message) => {
  const output = await expectRefusal(tempDir(), env, message);
  // Exactly one problem, on one line.
  expect(output.split('\n').filter((line) => /^\s+- /.test(line))).toEqual([expect.stringMatching(message)]);
  if (env.JWT_PRIVATE_KEY) {
    // Not the key, nor any line of its PEM body.
    for (const part of env.JWT_PRIVATE_KEY.split('\n').filter((line) => line.length > 16)) {
      expect(output).not.toContain(part);
    }
  }
});

test('refuses to start when .env switches JWT_ALG to ES256 but keeps the Ed25519 key', async () => {
  const cwd = tempDir();
  const key = ed25519();
  writeFileSync(join(cwd, '.env'), `JWT_ALG=ES256\nJWT_PRIVATE_KEY=${key}\n`);
  const output = await expectRefusal(cwd, {}, /JWT_PRIVATE_KEY is an Ed25519 key, but JWT_ALG=ES256/);
  expect(output).not.toContain(key);
});

test('starts with JWT_ALG=EdDSA and serves its public key (only) at /.well-known/jwks.json', async () => {
  const cwd = tempDir();
  const key = ed25519();
  writeFileSync(
    join(cwd, '.env'),
    `JWT_ALG=EdDSA\nJWT_PRIVATE_KEY=${key}\nENCRYPTION_KEY=${randomSecret()}\nDATABASE_URL=app.db\n`,
  );
  const server = spawnScript('server/main.ts', cwd, { PORT: '0' });
  try {
    const url = await server.url;
    expect(url, server.output()).not.toBeNull();
    const res = await fetch(`${url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    const { x } = createPrivateKey({ key: Buffer.from(key, 'base64url'), format: 'der', type: 'pkcs8' }).export({
      format: 'jwk',
    });
    expect(keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x, kid: expect.any(String), alg: 'EdDSA', use: 'sig' }]);
  } finally {
    server.child.kill('SIGTERM');
  }
  expect(await server.exitCode).toBe(0);
  expect(server.output()).not.toContain(key);
});

test('refuses to start, in one line without the password, when PostgreSQL does not answer', async () => {
  const output = await expectRefusal(
    tempDir(),
    { JWT_SECRET: randomSecret(), DATABASE_URL: 'postgres://app:s3cret@127.0.0.1:1/app' },
    /Cannot use the database: nothing answers at that address: is PostgreSQL running\?/,
    'PostgreSQL',
  );
  expect(output).not.toContain('s3cret');
});

test('refuses to start on a DATABASE_URL of an engine it does not speak', async () => {
  await expectRefusal(
    tempDir(),
    { JWT_SECRET: randomSecret(), DATABASE_URL: 'mysql://app:s3cret@127.0.0.1/app' },
    /DATABASE_URL must be a SQLite file path \(data\/app\.db\) or a postgres:\/\/ URL/,
    'postgres://',
  );
});
