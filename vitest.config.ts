import { defineConfig } from 'vitest/config';

// Every test runs on the engine TEST_DATABASE_URL names (test/helpers/database.ts): SQLite
// by default, or a PostgreSQL server. Without a server, the tests of the rules that storage
// decides (rotation, reuse, revocation, links, permissions, the mail queue) also run on
// PGlite, PostgreSQL compiled to WebAssembly, so `npm test` proves both dialects anywhere.
const DIALECT_TESTS = [
  'test/db/*.test.ts',
  'test/server/auth/refresh.test.ts',
  'test/server/auth/sessions.test.ts',
  'test/server/auth/session-integrity.test.ts',
  'test/server/auth/revocation.test.ts',
  'test/server/auth/email-tokens.test.ts',
  'test/server/auth/password-reset.test.ts',
  'test/server/auth/second-factor.test.ts',
  'test/server/auth/passkeys.test.ts',
  'test/server/routers/note.test.ts',
  'test/server/http/health.test.ts',
  'test/server/mail/worker.test.ts',
];

const common = {
  // Several tests spawn the real server or setup script (tsx start-up is ~0.5 s).
  testTimeout: 30_000,
  hookTimeout: 30_000,
};
const hasPostgresServer = /^postgres(ql)?:\/\//.test(process.env.TEST_DATABASE_URL ?? '');

export default defineConfig({
  test: {
    // The PostgreSQL template (when TEST_DATABASE_URL names a server), then one production
    // build (dist/) for every test that serves it, before any test runs.
    globalSetup: ['test/database-setup.ts', 'test/global-setup.ts'],
    projects: [
      { test: { ...common, name: hasPostgresServer ? 'postgres' : 'sqlite', include: ['test/**/*.test.ts'] } },
      ...(process.env.TEST_DATABASE_URL
        ? []
        : [{ test: { ...common, name: 'pglite', include: DIALECT_TESTS, env: { TEST_DATABASE_URL: 'pglite' } } }]),
    ],
  },
});
