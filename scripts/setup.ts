// `npm run setup`: creates .env from .env.example, fills every empty generated
// secret with fresh random bytes, and creates and migrates the database.
// `npm run setup -- --rotate` rotates the signing key (JWT_SECRET, or JWT_PRIVATE_KEY when
// JWT_ALG is EdDSA or ES256). Safe to run again: it never overwrites a value you set, and
// says when there was nothing to do. It never prints a key.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs, parseEnv } from 'node:util';
import { describeDatabase, dialectOf, openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createPostgresDatabaseIfMissing } from '../db/postgres.ts';
import { ConfigError, envFileProblems, envFileWarnings, parseConfig } from '../server/env.ts';
import { ALGORITHMS, type Algorithm, generateKeyPair, publicKeyOf } from '../server/auth/signing-keys.ts';
import { databaseProblem } from './lib/database.ts';

const ENV_FILE = '.env';
const EXAMPLE_FILE = '.env.example';
/** Secrets setup generates when they are empty; add yours (session keys, webhook secrets) here. */
/** Secrets setup fills in when empty or missing (an .env from before they existed gets them too). */
const GENERATED_SECRETS = ['ENCRYPTION_KEY'];

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
  --rotate          new signing key; the old one verifies the tokens it signed for one
                    ACCESS_TOKEN_TTL more (JWT_SECRET_PREVIOUS until JWT_SECRET_PREVIOUS_UNTIL;
                    with EdDSA/ES256, JWT_PUBLIC_KEY_PREVIOUS until JWT_PUBLIC_KEY_PREVIOUS_UNTIL,
                    published at /.well-known/jwks.json until then)
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
const sourceFile = isNewEnvFile ? EXAMPLE_FILE : ENV_FILE;
let text = (() => {
  try {
    return readFileSync(sourceFile, 'utf8');
  } catch (error) {
    fail(`${sourceFile} cannot be read (${(error as { code?: string }).code}): make it a file you can read.`);
  }
})();
const lineProblems = envFileProblems(text, sourceFile);
if (lineProblems.length > 0) fail(`${lineProblems.join('\n')}\nNothing was changed.`);
if (!isNewEnvFile) for (const warning of envFileWarnings(ENV_FILE)) console.warn(`Warning: ${warning}`);
if (isNewEnvFile) done.push(`Created ${ENV_FILE} from ${EXAMPLE_FILE} (readable by you only).`);

// A real environment variable wins over .env, as at boot.
const alg = (process.env.JWT_ALG || parseEnv(text).JWT_ALG || 'HS256') as Algorithm;
if (!ALGORITHMS.includes(alg)) fail(`JWT_ALG must be ${ALGORITHMS.join(', ')} or empty (HS256), not "${alg}".`);
const keyName = alg === 'HS256' ? 'JWT_SECRET' : 'JWT_PRIVATE_KEY';
const hasKey = Boolean(parseEnv(text)[keyName]);

for (const key of GENERATED_SECRETS) {
  if (parseEnv(text)[key]) continue;
  text = setValue(text, key, generateSecret());
  done.push(`Generated ${key} (32 random bytes).`);
}
if (!hasKey) {
  text = setValue(text, keyName, newSigningKey());
  done.push(
    alg === 'HS256'
      ? 'Generated JWT_SECRET (32 random bytes).'
      : `Generated JWT_PRIVATE_KEY (${alg === 'EdDSA' ? 'Ed25519' : 'P-256'}); its public key is served at /.well-known/jwks.json.`,
  );
} else if (args.rotate) {
  text = rotate(text);
}

/** A new key for JWT_ALG: an HMAC secret, or a private key (base64url PKCS#8). */
function newSigningKey() {
  return alg === 'HS256' ? generateSecret() : generateKeyPair(alg).privateKey;
}

/**
 * The current key becomes the previous one, which verifies (never signs) for one access-token
 * lifetime from now: JWT_SECRET_PREVIOUS_UNTIL fixes that window, so no restart reopens it.
 */
function rotate(envText: string): string {
  const config = readConfig(envText);
  const now = new Date();
  const isHmac = alg === 'HS256';
  // HS256 keeps the previous secret; EdDSA/ES256 keep (and publish) only the previous public key.
  const previousName = isHmac ? 'JWT_SECRET_PREVIOUS' : 'JWT_PUBLIC_KEY_PREVIOUS';
  const untilName = `${previousName}_UNTIL`;
  const previousUntil = isHmac
    ? config.jwt.previousSecret && config.jwt.previousSecretUntil
    : config.jwt.previousPublicKey && config.jwt.previousPublicKeyUntil;
  if (previousUntil && previousUntil > now && !args.force && !args['drop-previous']) {
    fail(
      `${previousName} still verifies tokens until ${previousUntil.toISOString()}. Rotating now drops it: ` +
        'users holding a token it signed get invalid_token and must sign in again. Wait until then, or run ' +
        '`npm run setup -- --rotate --force` to accept that.',
    );
  }
  const rotated = setValue(envText, keyName, newSigningKey());
  if (args['drop-previous']) {
    done.push(
      `Rotated ${keyName} and dropped the previous key (emergency rotation): every access token issued so far is ` +
        'refused once the server restarts, and its user signs in again. Restart every server now' +
        (isHmac ? '.' : ', and every service that verifies with the JWKS (each caches the keys up to 5 minutes).'),
    );
    return setValue(setValue(rotated, previousName, ''), untilName, '');
  }
  const until = new Date(now.getTime() + config.jwt.accessTokenTtl * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  done.push(
    `Rotated ${keyName}: the old key is now ${previousName}, verifying the tokens it signed until ${until} ` +
      `(${untilName}). Restart the server.`,
  );
  const previous = isHmac ? config.jwt.secret! : publicKeyOf(config.jwt.privateKey!);
  return setValue(setValue(rotated, previousName, previous), untilName, until);
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

// Checked before anything is written: a refused .env stays exactly as it was.
const config = readConfig(text);

if (done.length > 0) {
  writeEnvFile(text);
} else if (process.platform !== 'win32' && (statSync(ENV_FILE).mode & 0o077) !== 0) {
  chmodSync(ENV_FILE, 0o600);
  done.push(`Made ${ENV_FILE} readable by you only (it was readable by others).`);
}

const database = describeDatabase(config.databaseUrl);
const engine = dialectOf(config.databaseUrl) === 'postgres' ? 'PostgreSQL' : 'SQLite';
try {
  if (engine === 'PostgreSQL' && (await createPostgresDatabaseIfMissing(config.databaseUrl))) {
    done.push(`Created the PostgreSQL database ${database}.`);
  }
  const db = await openDatabase(config.databaseUrl);
  const applied = await migrateDatabase(db).finally(() => db.close());
  if (applied > 0) done.push(`Database ${database} (${engine}): applied ${applied} migration(s).`);
} catch (error) {
  // One line, whatever went wrong: node-postgres's messages never quote the password.
  const reason = databaseProblem(error);
  if (reason === undefined) throw error;
  fail(`Cannot set up the database ${database} (${engine}): ${reason}`);
}

if (done.length === 0) {
  console.log(`Nothing to change: ${ENV_FILE} is complete and ${database} (${engine}) is up to date.`);
} else {
  for (const line of done) console.log(line);
}
