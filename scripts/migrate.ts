// `npm run db:migrate`: applies pending migrations to DATABASE_URL, with the
// foreign-key safeguard of db/migrate.ts (drizzle-kit's own `migrate` lacks it).
import { describeDatabase, openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { databaseProblem } from './lib/database.ts';
import { ConfigError, loadConfig } from '../server/env.ts';

try {
  const { databaseUrl } = loadConfig();
  const db = await openDatabase(databaseUrl);
  const applied = await migrateDatabase(db).finally(() => db.close());
  const name = `${describeDatabase(databaseUrl)} (${db.engine})`;
  console.log(applied > 0 ? `${name}: applied ${applied} migration(s).` : `${name}: up to date.`);
} catch (error) {
  const problem = error instanceof ConfigError ? error.message : databaseProblem(error);
  if (problem === undefined) throw error;
  process.stderr.write(`db:migrate: ${problem}\n`);
  process.exit(1);
}
