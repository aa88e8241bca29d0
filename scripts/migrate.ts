// `npm run db:migrate`: applies pending migrations to DATABASE_URL, with the
// foreign-key safeguard of db/migrate.ts (drizzle-kit's own `migrate` lacks it).
import { openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { ConfigError, loadConfig } from '../server/env.ts';

try {
  const { databaseUrl } = loadConfig();
  const db = openDatabase(databaseUrl);
  const applied = migrateDatabase(db);
  db.$client.close();
  console.log(applied > 0 ? `${databaseUrl}: applied ${applied} migration(s).` : `${databaseUrl}: up to date.`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`db:migrate: ${error.message}\n`);
  process.exit(1);
}
