// `npm run setup`: creates .env from .env.example, fills every empty generated
// secret with fresh random bytes, and creates and migrates the database.
// `npm run setup -- --rotate` rotates JWT_SECRET. Safe to run again: it never
// overwrites a value you set, and says when there was nothing to do.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs, parseEnv } from 'node:util';
import { openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { ConfigError, parseConfig } from '../server/env.ts';

const ENV_FILE = '.env';
const EXAMPLE_FILE = '.env.example';
/** Secrets setup generates when they are empty; add yours (session keys, webhook secrets) here. */
const GENERATED_SECRETS = ['JWT_SECRET'] as const;

/** 256 random bits, base64url: what server/env.ts requires of a secret. */
const generateSecret = () => randomBytes(32).toString('base64url');

function setValue(text: string, key: string, value: string): string {
  const line = new RegExp(`^${key}=.*$`, 'm');
  if (line.test(text)) return text.replace(line, `${key}=${value}`);
  return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${key}=${value}\n`;
}

/** Writes the whole file or nothing (temp file + rename), readable by the owner only. */
function writeEnvFile(text: string) {
  const temp = `${ENV_FILE}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, ENV_FILE);
  chmodSync(ENV_FILE, 0o600);
}

function fail(message: string): never {
  process.stderr.write(`setup: ${message}\n`);
  process.exit(1);
}

const USAGE = `Usage: npm run setup [-- --rotate [--force] | --rotate --drop-previous]
  (no option)       create .env and its secrets if missing, create and migrate the database
  --rotate          new JWT_SECRET; the old one verifies the tokens it signed for one
                    ACCESS_TOKEN_TTL more (JWT_SECRET_PREVIOUS until JWT_SECRET_PREVIOUS_UNTIL)
  --force           rotate although the previous key is still verifying tokens (they are
                    refused at once: those users sign in again)
  --drop-previous   emergency rotation after a leak: new JWT_SECRET, no previous key at all`;

const args = (() => {
  try {
    return parseArgs({
      options: {
        rotate: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        'drop-previous': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
})();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if ((args.force || args['drop-previous']) && !args.rotate)
  fail(`--force and --drop-previous go with --rotate.\n${USAGE}`);
const done: string[] = [];

const isNewEnvFile = !existsSync(ENV_FILE);
if (isNewEnvFile && !existsSync(EXAMPLE_FILE)) {
  fail(`neither ${ENV_FILE} nor ${EXAMPLE_FILE} found: run setup from the project's root folder.`);
}
let text = readFileSync(isNewEnvFile ? EXAMPLE_FILE : ENV_FILE, 'utf8');
if (isNewEnvFile) done.push(`Created ${ENV_FILE} from ${EXAMPLE_FILE} (readable by you only).`);

for (const key of GENERATED_SECRETS) {
  if (parseEnv(text)[key]) continue;
  text = setValue(text, key, generateSecret());
  done.push(`Generated ${key} (32 random bytes).`);
}

if (args.rotate && !done.some((line) => line.startsWith('Generated JWT_SECRET'))) {
  text = rotate(text);
}

/**
 * The current key becomes the previous one, which verifies (never signs) for one access-token
 * lifetime from now: JWT_SECRET_PREVIOUS_UNTIL fixes that window, so no restart reopens it.
 */
function rotate(envText: string): string {
  const config = readConfig(envText);
  const now = new Date();
  const { previousSecret, previousSecretUntil } = config.jwt;
  if (previousSecret && previousSecretUntil && previousSecretUntil > now && !args.force && !args['drop-previous']) {
    fail(
      `JWT_SECRET_PREVIOUS still verifies tokens until ${previousSecretUntil.toISOString()}. Rotating now drops it: ` +
        'users holding a token it signed get invalid_token and must sign in again. Wait until then, or run ' +
        '`npm run setup -- --rotate --force` to accept that.',
    );
  }
  const newSecret = generateSecret();
  if (args['drop-previous']) {
    done.push(
      'Rotated JWT_SECRET and dropped the previous key (emergency rotation): every access token issued so far is ' +
        'refused once the server restarts, and its user signs in again. Restart every server now.',
    );
    return setValue(
      setValue(setValue(envText, 'JWT_SECRET', newSecret), 'JWT_SECRET_PREVIOUS', ''),
      'JWT_SECRET_PREVIOUS_UNTIL',
      '',
    );
  }
  const until = new Date(now.getTime() + config.jwt.accessTokenTtl * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  done.push(
    `Rotated JWT_SECRET: the old key is now JWT_SECRET_PREVIOUS, verifying the tokens it signed until ${until} ` +
      '(JWT_SECRET_PREVIOUS_UNTIL). Restart the server.',
  );
  return setValue(
    setValue(setValue(envText, 'JWT_SECRET_PREVIOUS', config.jwt.secret), 'JWT_SECRET_PREVIOUS_UNTIL', until),
    'JWT_SECRET',
    newSecret,
  );
}

/** The configuration .env text gives, under the real environment (which wins). */
function readConfig(envText: string) {
  try {
    return parseConfig({ ...parseEnv(envText), ...process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    fail(
      `${error.message}\nSetup never overwrites a value that is set: fix it in ${ENV_FILE} ` +
        '(empty a bad secret to have a fresh one generated) and run `npm run setup` again.',
    );
  }
}

if (done.length > 0) {
  writeEnvFile(text);
} else if (process.platform !== 'win32' && (statSync(ENV_FILE).mode & 0o077) !== 0) {
  chmodSync(ENV_FILE, 0o600);
  done.push(`Made ${ENV_FILE} readable by you only (it was readable by others).`);
}

const config = readConfig(text);

const db = openDatabase(config.databaseUrl);
const applied = migrateDatabase(db);
db.$client.close();
if (applied > 0) done.push(`Database ${config.databaseUrl}: applied ${applied} migration(s).`);

if (done.length === 0) {
  console.log(`Nothing to change: ${ENV_FILE} is complete and ${config.databaseUrl} is up to date.`);
} else {
  for (const line of done) console.log(line);
}
