// With TEST_DATABASE_URL=postgres://…, migrates the template every test's database is
// cloned from (test/helpers/database.ts), once per run; a server that does not answer
// fails the run here, at once, rather than in every test.
import type { TestProject } from 'vitest/node';
import { TEST_ENGINE, dropTestDatabases, newRunId, prepareTemplate } from './helpers/database.ts';

const run = newRunId();

export async function setup(project: TestProject) {
  project.provide('databaseRun', run);
  if (TEST_ENGINE === 'postgres') await prepareTemplate(run);
  else {
    console.log(
      'No PostgreSQL server (TEST_DATABASE_URL): every test runs on SQLite, the dialect tests also on PGlite, ' +
        'and the PostgreSQL-only multi-instance tests are skipped (two processes cannot share an in-process PGlite). ' +
        'TEST_DATABASE_URL=postgres://user@host:5432/db npm test runs them all on that server.',
    );
  }
}

export async function teardown() {
  if (TEST_ENGINE === 'postgres') await dropTestDatabases(run);
}
