import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The PostgreSQL template (when TEST_DATABASE_URL names a server), then one production
    // build (dist/) for every test that serves it, before any test runs.
    globalSetup: ['test/database-setup.ts', 'test/global-setup.ts'],
    // Several tests spawn the real server or setup script (tsx start-up is ~0.5 s).
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
