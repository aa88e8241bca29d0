// With TEST_DATABASE_URL=postgres://…, migrates the template every test's database is
// cloned from (test/helpers/database.ts), once per run; a server that does not answer
// fails the run here, at once, rather than in every test.
import { TEST_ENGINE, dropTestDatabases, prepareTemplate } from './helpers/database.ts';

export async function setup() {
  if (TEST_ENGINE === 'postgres') await prepareTemplate();
}

export async function teardown() {
  if (TEST_ENGINE === 'postgres') await dropTestDatabases();
}
