// `npm run user:create -- --email E [--role admin]`: creates an account, e.g. the
// first admin. The password comes from standard input, never the command line
// (where shell history and `ps` would keep it).
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { insertVerifiedUser } from '../server/auth/accounts.ts';
import { emailInput, newPasswordInput } from '../server/auth/inputs.ts';
import { openMigratedDatabase } from './lib/database.ts';
import { createPasswordHasher } from '../server/auth/passwords.ts';
import { DEFAULT_ROLE, ROLES } from '../server/auth/roles.ts';
import { ConfigError, loadConfig } from '../server/env.ts';

const USAGE = `Usage: npm run user:create -- --email E [--role ${ROLES.join('|')}]  (password on standard input)`;

function fail(message: string): never {
  process.stderr.write(`user:create: ${message}\n`);
  process.exit(1);
}

/** Reads one line; on a terminal without echoing it. */
async function readPassword(): Promise<string> {
  const { stdin, stderr } = process;
  if (!stdin.isTTY) {
    const lines = createInterface({ input: stdin });
    for await (const line of lines) return line;
    return '';
  }
  stderr.write('Password: ');
  stdin.setRawMode(true);
  let password = '';
  for await (const chunk of stdin) {
    for (const char of String(chunk)) {
      if (char === '\u0003') fail('cancelled');
      if (char === '\r' || char === '\n') {
        stdin.setRawMode(false);
        stderr.write('\n');
        return password;
      }
      password = char === '\u007f' ? password.slice(0, -1) : password + char;
    }
  }
  return password;
}

const args = (() => {
  try {
    return parseArgs({ options: { email: { type: 'string' }, role: { type: 'string', default: DEFAULT_ROLE } } })
      .values;
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
})();

const input = z
  .object({ email: emailInput, role: z.enum(ROLES), password: newPasswordInput })
  .safeParse({ email: args.email ?? '', role: args.role, password: await readPassword() });
if (!input.success) {
  fail(`${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')}\n${USAGE}`);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}
const db = await openMigratedDatabase(config.databaseUrl, fail);
const passwordHash = await createPasswordHasher(config.passwords).hash(input.data.password);
// Made by whoever runs the server: its address counts as verified.
const user = await insertVerifiedUser(
  db,
  { email: input.data.email, role: input.data.role, passwordHash },
  new Date(),
).finally(() => db.close());
if (!user) fail(`an account with the e-mail ${input.data.email} already exists`);
console.log(`Created ${input.data.role} ${input.data.email} (id ${user.id}).`);
