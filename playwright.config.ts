// Browser tests (`npm run test:e2e`): the production build, served by the real server
// on a temporary database, driven in Chromium, its mail caught by a real SMTP server
// (test/e2e/smtp-sink.ts). Uses the system's Chromium (CHROMIUM_PATH, else
// /usr/bin/chromium), or Playwright's own if neither exists.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';

/** A port nothing listens on now (asked of the OS in a child: the config must be synchronous). */
const freePort = () =>
  execFileSync(process.execPath, [
    '-e',
    'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })',
  ])
    .toString()
    .trim();

// Free ports, chosen once: workers load this file again and read the same variables.
process.env.E2E_PORT ??= freePort();
process.env.E2E_SMTP_PORT ??= freePort();
const PORT = Number(process.env.E2E_PORT);
const SMTP_PORT = Number(process.env.E2E_SMTP_PORT);
const systemChromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((path) => path && existsSync(path));

// Workers load this file again; environment variables carry one value to all of them.
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'e2e-'));
// `JWT_ALG=EdDSA npm run test:e2e` runs the browser tests on Ed25519-signed tokens (CI does both).
const alg = process.env.JWT_ALG === 'EdDSA' ? 'EdDSA' : 'HS256';
process.env.E2E_JWT_KEY ??=
  alg === 'EdDSA'
    ? generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url')
    : randomBytes(32).toString('base64url');
process.env.E2E_ENCRYPTION_KEY ??= randomBytes(32).toString('base64url');

/** The server's environment; test/e2e/fixtures.ts runs scripts with the same. */
export const serverEnv = {
  NODE_ENV: 'production',
  APP_ORIGIN: `http://localhost:${PORT}`,
  HOST: '127.0.0.1',
  PORT: String(PORT),
  JWT_ALG: alg,
  ...(alg === 'EdDSA' ? { JWT_PRIVATE_KEY: process.env.E2E_JWT_KEY } : { JWT_SECRET: process.env.E2E_JWT_KEY }),
  ENCRYPTION_KEY: process.env.E2E_ENCRYPTION_KEY,
  DATABASE_URL: join(process.env.E2E_DATA_DIR, 'e2e.db'),
  // Short enough to wait past in a test.
  ACCESS_TOKEN_TTL: '3',
  // A password proof is "recent" for 5 s: tests wait past it to see the password dialog.
  REAUTH_WINDOW: '5',
  SMTP_URL: `smtp://127.0.0.1:${SMTP_PORT}`,
  MAIL_FROM: 'e2e <no-reply@example.com>',
  LOG_LEVEL: 'warn',
  // Each test is its own client address (X-Forwarded-For from test/e2e/fixtures.ts), so the
  // per-address sign-in limits count per test, as they would per user, not for the suite.
  TRUST_PROXY: '1',
};

/** Where test/e2e/smtp-sink.ts appends each mail it receives, one JSON line each. */
export const MAILBOX_FILE = join(process.env.E2E_DATA_DIR, 'mail.jsonl');

export default defineConfig({
  testDir: 'test/e2e',
  // One server, one database, and tests that wait on the clock: run them one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 30_000,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: {
      executablePath: systemChromium,
      // The machine has no network but loopback: keep Chromium from trying.
      args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    trace: 'retain-on-failure',
  },
  webServer: [
    {
      command: 'node_modules/.bin/tsx test/e2e/smtp-sink.ts',
      port: SMTP_PORT,
      env: { E2E_DATA_DIR: process.env.E2E_DATA_DIR, SMTP_SINK_PORT: String(SMTP_PORT) },
      reuseExistingServer: false,
    },
    {
      command: 'node dist/server/main.js',
      url: `http://localhost:${PORT}/trpc/health`,
      env: serverEnv,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
  ],
});
