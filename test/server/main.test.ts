// The real entry point, spawned: it refuses to start on a bad secret or, in production,
// without a way to send mail (exit code, message, nothing listening), starts on a good
// configuration, and shuts down on SIGTERM.
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
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

test('starts with a good secret, answers health, and stops cleanly on SIGTERM', async () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, '.env'), `JWT_SECRET=${randomSecret()}\nDATABASE_URL=db/app.db\n`);
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
