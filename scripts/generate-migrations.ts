// `npm run db:generate [-- --name add_things]`: after a change to db/schema.ts and its twin
// db/schema.postgres.ts, writes the next migration of each engine (drizzle-kit diffs each
// schema against its migrations folder). Commit both folders, meta/ included.
import { spawnSync } from 'node:child_process';

const passOn = process.argv.slice(2);
const engines = [
  { name: 'SQLite', args: ['--config', 'drizzle.config.ts'] },
  {
    name: 'PostgreSQL',
    args: ['--dialect', 'postgresql', '--schema', './db/schema.postgres.ts', '--out', './db/migrations/postgres'],
  },
];
for (const engine of engines) {
  console.log(`${engine.name}:`);
  const run = spawnSync('npx', ['drizzle-kit', 'generate', ...engine.args, ...passOn], { stdio: 'inherit' });
  if (run.status !== 0) {
    process.stderr.write(
      `db:generate: drizzle-kit failed for ${engine.name} (see above); nothing else was generated.\n`,
    );
    process.exit(1);
  }
}
