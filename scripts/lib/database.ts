// The database a script works on, opened and migrated; what cannot work (a bad path, a
// damaged file, an unreachable server, a failed migration) ends the script with one line.
import { DatabaseUrlError, type Db, openDatabase } from '../../db/client.ts';
import { MigrationError, migrateDatabase } from '../../db/migrate.ts';
import { describeConnectionError } from '../../db/postgres.ts';

/** The reason to print for a database error, or undefined for a bug (shown in full). */
export function databaseProblem(error: unknown): string | undefined {
  if (error instanceof DatabaseUrlError || error instanceof MigrationError) return error.message;
  return describeConnectionError(error);
}

/** Opens and migrates DATABASE_URL's database; `fail` prints a known problem and exits. */
export async function openMigratedDatabase(url: string, fail: (message: string) => never): Promise<Db> {
  let db: Db | undefined;
  try {
    db = await openDatabase(url);
    await migrateDatabase(db);
    return db;
  } catch (error) {
    await db?.close();
    const problem = databaseProblem(error);
    if (problem === undefined) throw error;
    fail(problem);
  }
}
