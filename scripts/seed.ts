// `npm run db:seed`: development data, an admin, a user and a few notes each, so every
// page has something to show. The two accounts get one fresh random password, printed
// once. Refuses to run with NODE_ENV=production. Running it again adds nothing.
import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { describeDatabase } from '../db/client.ts';
import { insertVerifiedUser } from '../server/auth/accounts.ts';
import { createPasswordHasher } from '../server/auth/passwords.ts';
import type { Role } from '../server/auth/roles.ts';
import { ConfigError, parseConfig, readEnvironment } from '../server/env.ts';
import { openMigratedDatabase } from './lib/database.ts';

const ACCOUNTS: { email: string; role: Role; notes: string[] }[] = [
  { email: 'admin@example.com', role: 'admin', notes: ['Welcome, admin', 'Try the Admin page'] },
  {
    email: 'user@example.com',
    role: 'user',
    notes: ['Groceries', 'Ideas for the weekend', 'Only I (and admins) can see this'],
  },
];

function fail(message: string): never {
  process.stderr.write(`db:seed: ${message}\n`);
  process.exit(1);
}

// Checked before anything else, even a configuration that would not load.
const vars = readEnvironment();
if (vars.NODE_ENV === 'production') {
  fail('refusing to run with NODE_ENV=production: it creates accounts with a password printed on screen.');
}
const config = (() => {
  try {
    return parseConfig(vars);
  } catch (error) {
    if (error instanceof ConfigError) fail(`${error.message}\nRun \`npm run setup\` first.`);
    throw error;
  }
})();

const db = await openMigratedDatabase(config.databaseUrl, fail);
const { users, notes } = db.tables;
const where = describeDatabase(config.databaseUrl);
try {
  // 96 random bits: typed once from the console, never reused.
  const password = `seed-${randomBytes(12).toString('base64url')}`;
  const passwordHash = await createPasswordHasher(config.passwords).hash(password);
  const now = new Date();
  const created: string[] = [];
  for (const account of ACCOUNTS) {
    // An account that exists already keeps its password and role.
    const inserted = await insertVerifiedUser(db, { email: account.email, passwordHash, role: account.role }, now);
    if (inserted) created.push(`${account.email} (${account.role})`);
    const [user] = inserted
      ? [inserted]
      : await db.select({ id: users.id }).from(users).where(eq(users.email, account.email));
    if (!user) fail(`could not create or find ${account.email}`);
    const [existing] = await db.select({ n: count() }).from(notes).where(eq(notes.ownerId, user.id));
    if ((existing?.n ?? 0) > 0) continue;
    // A second apart, so the list has a stable newest-first order.
    const rows = account.notes.map((title, i) => {
      const at = new Date(now.getTime() - i * 1000);
      return { ownerId: user.id, title, body: `${title}: demo content.`, createdAt: at, updatedAt: at };
    });
    await db.insert(notes).values(rows);
  }
  if (created.length === 0) {
    console.log(`Nothing to add: ${ACCOUNTS.map((a) => a.email).join(' and ')} exist in ${where}.`);
  } else {
    console.log(`Created ${created.join(' and ')} with demo notes in ${where}.`);
    console.log(`Password of the new account(s), shown once (development only): ${password}`);
  }
} finally {
  await db.close();
}
