// drizzle-kit's configuration: `npm run db:generate` diffs db/schema.ts against
// the migrations in db/migrations/ and writes the next one.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './db/schema.ts',
  out: './db/migrations/sqlite',
  strict: true,
  verbose: true,
});
