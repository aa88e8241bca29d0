// The server's configuration: one zod schema for every variable in the contract,
// parsed once at boot. Nothing else reads process.env. Edit this file when you add
// a setting (and document it in .env.example).
import { type KeyObject, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ALGORITHMS, readKey } from './auth/signing-keys.ts';

const SETUP_HINT = 'Run `npm run setup` to generate one.';

/** Where `npm run dev` serves the SPA: APP_ORIGIN's default. */
const devOrigin = (webPort: number) => `http://localhost:${webPort}`;

/** Secrets that tutorials, blog posts and frameworks ship as examples. Never accept them. */
const KNOWN_WEAK_SECRETS = new Set([
  'secret',
  'secretkey',
  'secret-key',
  'jwt-secret',
  'jwtsecret',
  'jwt_secret',
  'mysecret',
  'supersecret',
  'topsecret',
  'changeme',
  'change-me',
  'changeit',
  'change-this',
  'replace-me',
  'password',
  'default',
  'keyboard cat',
  'your-secret-key',
  'your_secret_key',
  'your-jwt-secret',
  'your_jwt_secret',
  'your-256-bit-secret',
  'your-super-secret-key',
  'secretorprivatekey',
  'development',
  'test',
]);

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a signing secret and returns the reason it is unusable, or null when it is fine.
 *
 * @example
 * getSecretProblem('changeme') // => 'is a well-known example value …'
 */
export function getSecretProblem(value: string): string | null {
  if (KNOWN_WEAK_SECRETS.has(value.toLowerCase()) || /^(change|replace)[-_]?me/i.test(value)) {
    return `is a well-known example value, not a secret. ${SETUP_HINT}`;
  }
  if (!BASE64URL.test(value)) {
    return `must be base64url (A-Z, a-z, 0-9, "-" and "_", no padding). ${SETUP_HINT}`;
  }
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length < 32) {
    return `decodes to ${bytes.length} bytes; at least 32 random bytes are required. ${SETUP_HINT}`;
  }
  // 32 random bytes almost always hold ~30 distinct values; a repeated pattern does not.
  if (new Set(bytes).size < 16) {
    return `is not random (too few distinct bytes). ${SETUP_HINT}`;
  }
  return null;
}

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

const secret = z.string().superRefine((value, ctx) => {
  const problem = getSecretProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const isoTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 time such as 2026-01-31T12:00:00Z' })
  .optional();

/** `JWT_SERVICES=reports=https://reports.example.com,billing=…`: name → audience. */
function parseServices(text: string | undefined): { services: Record<string, string>; problems: string[] } {
  const services: Record<string, string> = {};
  const problems: string[] = [];
  for (const entry of (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([a-z][a-z0-9-]{0,31})=(\S+)$/.exec(entry);
    if (!match) {
      problems.push(
        `entry "${entry}" must be name=audience, e.g. reports=https://reports.example.com (name: a-z, 0-9, "-").`,
      );
    } else if (Object.hasOwn(services, match[1]!)) {
      problems.push(`names the service "${match[1]}" twice.`);
    } else if (Object.values(services).includes(match[2]!)) {
      problems.push(`gives the audience ${match[2]} to two services: each service needs its own.`);
    } else {
      services[match[1]!] = match[2]!;
    }
  }
  return { services, problems };
}

const seconds = (fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().default(fallback));

const variables = z.object({
  NODE_ENV: z.preprocess(emptyAsUndefined, z.enum(['development', 'production', 'test']).default('development')),
  JWT_ALG: z.preprocess(
    emptyAsUndefined,
    z.enum(ALGORITHMS, { error: `must be ${ALGORITHMS.join(', ')} or empty (HS256)` }).default('HS256'),
  ),
  JWT_SECRET: z.preprocess(emptyAsUndefined, secret.optional()),
  JWT_SECRET_PREVIOUS: z.preprocess(emptyAsUndefined, secret.optional()),
  JWT_SECRET_PREVIOUS_UNTIL: z.preprocess(emptyAsUndefined, isoTime),
  ENCRYPTION_KEY: z.preprocess(emptyAsUndefined, secret.optional()),
  JWT_PRIVATE_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_PUBLIC_KEY_PREVIOUS: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_PUBLIC_KEY_PREVIOUS_UNTIL: z.preprocess(emptyAsUndefined, isoTime),
  JWT_SERVICES: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  ACCESS_TOKEN_TTL: seconds(900),
  REFRESH_TOKEN_TTL: seconds(604_800),
  SESSION_MAX_AGE: seconds(2_592_000),
  REFRESH_REUSE_GRACE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(60).default(10)),
  ARGON2_MEMORY_KIB: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1024).default(19_456)),
  ARGON2_TIME_COST: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(2)),
  HASH_CONCURRENCY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(64).default(2)),
  HASH_QUEUE_LIMIT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(100)),
  AUDIT_RETENTION_DAYS: z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().default(90)),
  TRUST_PROXY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(10).default(0)),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default('data/app.db')
      // db/client.ts opens either; any other scheme is a mistake, not a file name.
      .refine((url) => /^postgres(ql)?:\/\//i.test(url) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url), {
        message: 'must be a SQLite file path (data/app.db) or a postgres:// URL',
      }),
  ),
  HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65_535).default(3000)),
  /** Vite's port in development (web/vite.config.ts); the default APP_ORIGIN follows it. */
  WEB_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(65_535).default(5173)),
  HEADERS_TIMEOUT: seconds(10),
  REQUEST_TIMEOUT: seconds(30),
  KEEP_ALIVE_TIMEOUT: seconds(5),
  MAX_CONNECTIONS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(1000)),
  MAX_CONNECTIONS_PER_IP: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(100)),
  SMTP_URL: z.preprocess(
    emptyAsUndefined,
    z
      .url({
        protocol: /^smtps?$/,
        error: 'must be an smtp:// or smtps:// URL, e.g. smtps://user:pass@smtp.example.com:465',
      })
      .optional(),
  ),
  MAIL_FROM: z.preprocess(emptyAsUndefined, z.string().min(3).optional()),
  REAUTH_WINDOW: seconds(600),
  SIGN_UP_TOKEN_TTL: seconds(86_400),
  PASSWORD_RESET_TOKEN_TTL: seconds(3600),
  EMAIL_CHANGE_TOKEN_TTL: seconds(3600),
  RATE_LIMIT_MAX_KEYS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).default(50_000)),
  APP_ORIGIN: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** `true`: a production server on a plain-http APP_ORIGIN other than localhost (a test setup only). */
  ALLOW_HTTP_ORIGIN: z.preprocess(emptyAsUndefined, z.enum(['true', 'false']).default('false')),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['debug', 'info', 'warn', 'error']).default('info')),
});

const KNOWN_VARIABLES = new Set(Object.keys(variables.shape));

const schema = variables
  // Runs even when other variables failed (`when`), so a missing key is listed with them.
  .superRefine(
    (env, ctx) => {
      const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      if (env.ENCRYPTION_KEY && env.ENCRYPTION_KEY === env.JWT_SECRET) {
        problem(
          'ENCRYPTION_KEY',
          'equals JWT_SECRET: each key needs its own random bytes. Empty it and run `npm run setup`.',
        );
      }
      if (env.JWT_ALG === 'HS256') {
        if (!env.JWT_SECRET) problem('JWT_SECRET', `is missing. ${SETUP_HINT}`);
        if (env.JWT_PRIVATE_KEY) {
          problem(
            'JWT_PRIVATE_KEY',
            'is set but JWT_ALG is HS256: set JWT_ALG=EdDSA or ES256 to sign with it, or empty it.',
          );
        }
      } else if (env.JWT_ALG === 'EdDSA' || env.JWT_ALG === 'ES256') {
        const alg = env.JWT_ALG;
        if (!env.JWT_PRIVATE_KEY)
          problem('JWT_PRIVATE_KEY', `is missing: JWT_ALG=${alg} signs with a private key. ${SETUP_HINT}`);
        const current = env.JWT_PRIVATE_KEY ? readKey(alg, env.JWT_PRIVATE_KEY, 'private') : null;
        if (current && 'problem' in current) problem('JWT_PRIVATE_KEY', `${current.problem} ${SETUP_HINT}`);
        const previous = env.JWT_PUBLIC_KEY_PREVIOUS ? readKey(alg, env.JWT_PUBLIC_KEY_PREVIOUS, 'public') : null;
        if (previous && 'problem' in previous) problem('JWT_PUBLIC_KEY_PREVIOUS', previous.problem);
        if (previous && 'key' in previous && current && 'key' in current) {
          // The same key as current and previous would give new tokens the previous key's limits.
          if (previous.key.equals(createPublicKey(current.key))) {
            problem(
              'JWT_PUBLIC_KEY_PREVIOUS',
              'is the public half of JWT_PRIVATE_KEY. Empty it, or run `npm run setup -- --rotate` to rotate the key.',
            );
          }
        }
        if (previous && !env.JWT_PUBLIC_KEY_PREVIOUS_UNTIL) {
          problem(
            'JWT_PUBLIC_KEY_PREVIOUS_UNTIL',
            'is missing: it says when JWT_PUBLIC_KEY_PREVIOUS stops verifying tokens. ' +
              '`npm run setup -- --rotate` records it; or empty JWT_PUBLIC_KEY_PREVIOUS.',
          );
        }
      }
      const { problems: serviceProblems, services } = parseServices(env.JWT_SERVICES);
      for (const message of serviceProblems) problem('JWT_SERVICES', message);
      const apiAudience = env.JWT_AUDIENCE ?? `${URL.parse(env.APP_ORIGIN ?? devOrigin(env.WEB_PORT))?.origin}/trpc`;
      for (const [name, audience] of Object.entries(services)) {
        if (audience === apiAudience) {
          problem('JWT_SERVICES', `gives ${name} this API's own audience (${audience}): its tokens would work here.`);
        }
      }
      if (env.JWT_ALG === 'HS256' && Object.keys(services).length > 0) {
        problem(
          'JWT_SERVICES',
          'needs JWT_ALG=EdDSA or ES256: with HS256 a service could only verify tokens with the secret that ' +
            'mints them. Set JWT_ALG=EdDSA and run `npm run setup`.',
        );
      }
    },
    { when: () => true },
  )
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.APP_ORIGIN) {
      ctx.addIssue({
        code: 'custom',
        path: ['APP_ORIGIN'],
        message: 'is required in production (the origin browsers load the app from).',
      });
    }
    const origin = env.APP_ORIGIN ? URL.parse(env.APP_ORIGIN) : null;
    // Browsers treat localhost as secure, and nothing else on http: its Secure cookies are dropped.
    const isLocal = origin && /^(localhost|127\.0\.0\.1|\[::1\])$|\.localhost$/.test(origin.hostname);
    if (env.NODE_ENV === 'production' && origin?.protocol === 'http:' && !isLocal && env.ALLOW_HTTP_ORIGIN !== 'true') {
      ctx.addIssue({
        code: 'custom',
        path: ['APP_ORIGIN'],
        message:
          `is plain http (${origin.origin}): browsers drop the Secure session cookies there, so every sign-in ` +
          'would fail. Serve the app over https (a TLS proxy in front), or, for a test setup with native clients only ' +
          '(browsers still cannot sign in there), set ALLOW_HTTP_ORIGIN=true.',
      });
    }
    if (env.NODE_ENV === 'production' && !env.SMTP_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['SMTP_URL'],
        message:
          'is required in production: sign-up links and password resets go out by e-mail. ' +
          'Set it to your provider, e.g. smtps://user:pass@smtp.example.com:465 (and MAIL_FROM).',
      });
    }
    if (env.SMTP_URL && !env.MAIL_FROM) {
      ctx.addIssue({
        code: 'custom',
        path: ['MAIL_FROM'],
        message: 'is required with SMTP_URL: the sender of every mail, e.g. "Example App <no-reply@example.com>".',
      });
    }
    // OWASP's minimum for argon2id: 19 MiB, two passes. Cheaper settings are for tests only.
    if (env.NODE_ENV !== 'test' && (env.ARGON2_MEMORY_KIB < 19_456 || env.ARGON2_TIME_COST < 2)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ARGON2_MEMORY_KIB'],
        message: 'and ARGON2_TIME_COST must be at least 19456 and 2 (OWASP minimum) unless NODE_ENV=test.',
      });
    }
    if (env.HEADERS_TIMEOUT > env.REQUEST_TIMEOUT) {
      ctx.addIssue({
        code: 'custom',
        path: ['HEADERS_TIMEOUT'],
        message: `must not be longer than REQUEST_TIMEOUT (${env.REQUEST_TIMEOUT} s): the headers are part of the request.`,
      });
    }
    if (env.JWT_SECRET_PREVIOUS && !env.JWT_SECRET_PREVIOUS_UNTIL) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET_PREVIOUS_UNTIL'],
        message:
          'is missing: it says when JWT_SECRET_PREVIOUS stops verifying tokens. ' +
          '`npm run setup -- --rotate` records it; or empty JWT_SECRET_PREVIOUS.',
      });
    }
    if (env.JWT_SECRET_PREVIOUS && env.JWT_SECRET_PREVIOUS === env.JWT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET_PREVIOUS'],
        message: 'equals JWT_SECRET. Run `npm run setup -- --rotate` to rotate the key.',
      });
    }
  })
  .transform((env) => {
    const appOrigin = new URL(env.APP_ORIGIN ?? devOrigin(env.WEB_PORT)).origin;
    const alg = env.JWT_ALG;
    // Both were checked above: readKey cannot fail here.
    const keyOf = (text: string | undefined, kind: 'private' | 'public') =>
      alg !== 'HS256' && text ? (readKey(alg, text, kind) as { key: KeyObject }).key : undefined;
    const isHmac = alg === 'HS256';
    return {
      nodeEnv: env.NODE_ENV,
      jwt: {
        alg,
        secret: isHmac ? env.JWT_SECRET : undefined,
        previousSecret: isHmac ? env.JWT_SECRET_PREVIOUS : undefined,
        /** The previous key verifies nothing from this time on (fixed by `setup --rotate`). */
        previousSecretUntil: env.JWT_SECRET_PREVIOUS_UNTIL ? new Date(env.JWT_SECRET_PREVIOUS_UNTIL) : undefined,
        privateKey: keyOf(env.JWT_PRIVATE_KEY, 'private'),
        previousPublicKey: keyOf(env.JWT_PUBLIC_KEY_PREVIOUS, 'public'),
        previousPublicKeyUntil: env.JWT_PUBLIC_KEY_PREVIOUS_UNTIL
          ? new Date(env.JWT_PUBLIC_KEY_PREVIOUS_UNTIL)
          : undefined,
        /** Other services that may receive tokens: name → the `aud` their tokens carry. */
        services: parseServices(env.JWT_SERVICES).services,
        issuer: env.JWT_ISSUER ?? appOrigin,
        audience: env.JWT_AUDIENCE ?? `${appOrigin}/trpc`,
        accessTokenTtl: env.ACCESS_TOKEN_TTL,
        refreshTokenTtl: env.REFRESH_TOKEN_TTL,
        sessionMaxAge: env.SESSION_MAX_AGE,
        refreshReuseGrace: env.REFRESH_REUSE_GRACE,
      },
      passwords: {
        memoryCost: env.ARGON2_MEMORY_KIB,
        timeCost: env.ARGON2_TIME_COST,
        concurrency: env.HASH_CONCURRENCY,
        maxQueue: env.HASH_QUEUE_LIMIT,
      },
      /**
       * Encrypts what the database must keep readable (TOTP secrets): second-factor/secret-box.ts.
       * Unset, the app runs without two-step verification (and says so at boot).
       */
      encryptionKey: env.ENCRYPTION_KEY ? Buffer.from(env.ENCRYPTION_KEY, 'base64url') : undefined,
      databaseUrl: env.DATABASE_URL,
      host: env.HOST,
      port: env.PORT,
      /** Where `npm run dev` serves the SPA (Vite): APP_ORIGIN's default follows it. */
      webPort: env.WEB_PORT,
      /** Slow-client limits for the HTTP server (milliseconds and connection counts). */
      http: {
        headersTimeoutMs: env.HEADERS_TIMEOUT * 1000,
        requestTimeoutMs: env.REQUEST_TIMEOUT * 1000,
        keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT * 1000,
        maxConnections: env.MAX_CONNECTIONS,
        maxConnectionsPerIp: env.MAX_CONNECTIONS_PER_IP,
      },
      /**
       * Where mail goes: SMTP when SMTP_URL is set; otherwise the development mailbox (console
       * and /dev/mailbox) in development, and memory in tests. Production requires SMTP.
       */
      mail: {
        transport: env.SMTP_URL ? 'smtp' : env.NODE_ENV === 'test' ? 'memory' : 'dev-mailbox',
        smtpUrl: env.SMTP_URL,
        from: env.MAIL_FROM ?? 'Starter dev mailbox <no-reply@localhost>',
      } as { transport: 'smtp' | 'memory' | 'dev-mailbox'; smtpUrl: string | undefined; from: string },
      /** Seconds a password proof counts as recent for sensitive actions (step-up). */
      reauthWindow: env.REAUTH_WINDOW,
      /** Lifetimes of the links sent by e-mail, seconds. */
      emailTokenTtl: {
        sign_up: env.SIGN_UP_TOKEN_TTL,
        password_reset: env.PASSWORD_RESET_TOKEN_TTL,
        email_change: env.EMAIL_CHANGE_TOKEN_TTL,
      },
      /** Rate-limiter entries kept in memory, at most (least recently used go first). */
      rateLimitMaxKeys: env.RATE_LIMIT_MAX_KEYS,
      trustProxy: env.TRUST_PROXY,
      auditRetentionDays: env.AUDIT_RETENTION_DAYS,
      appOrigin,
      logLevel: env.LOG_LEVEL,
    };
  });

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the configuration from variables; throws a ConfigError listing every problem.
 *
 * @example
 * const config = parseConfig({ JWT_SECRET: '…', PORT: '0' })
 */
export function parseConfig(vars: Record<string, string | undefined>): Config {
  const result = schema.safeParse(vars);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || 'config'} ${issue.message}`));
}

/** The text of `.env`, or undefined when there is none; a ConfigError when it cannot be read. */
function readEnvFile(envFile: string): string | undefined {
  if (!existsSync(envFile)) return undefined;
  try {
    // A byte-order mark (some Windows editors) would become part of the first name.
    return readFileSync(envFile, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'this user may not read it' : code;
    throw new ConfigError([`${envFile} cannot be read (${why}): make it a file this user can read, or remove it.`]);
  }
}

/**
 * Lines of an env file that parseEnv would misread without a word: a line with no `=` is
 * skipped, and the value before it may swallow the next lines. Names each by its number.
 */
export function envFileProblems(text: string, envFile = '.env'): string[] {
  const problems: string[] = [];
  const parsed = parseEnv(text);
  const at = (index: number, raw: string) => {
    const line = raw.trim();
    return `${envFile} line ${index + 1} ("${line.length > 40 ? `${line.slice(0, 40)}…` : line}")`;
  };
  let open: { quote: string; line: number } | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    if (open) {
      // Inside a quoted value that goes on over several lines, up to its closing quote.
      if (raw.includes(open.quote)) open = null;
      else if (/^\s*(?:export\s+)?[A-Za-z_][\w.-]*\s*=/.test(raw)) {
        problems.push(
          `${at(index, raw)} is swallowed by the value that line ${open.line} opens with ${open.quote}: close that quote.`,
        );
      }
      return;
    }
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][\w.-]*)\s*=(.*)$/.exec(line);
    if (!match) {
      problems.push(`${at(index, raw)} is not NAME=value: add the "=", or make it a # comment.`);
      return;
    }
    const [, name, rest] = match as unknown as [string, string, string];
    if (!Object.hasOwn(parsed, name)) {
      problems.push(`${at(index, raw)} is not read as ${name} (a tab, or a character parseEnv skips?): retype it.`);
      return;
    }
    const value = rest.trim();
    const quote = value[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      const close = value.indexOf(quote, 1);
      if (close === -1) open = { quote, line: index + 1 };
      else if (
        value.slice(close + 1).trim() !== '' &&
        !value
          .slice(close + 1)
          .trim()
          .startsWith('#')
      ) {
        problems.push(
          `${at(index, raw)} has text after its closing ${quote}, which is dropped: quote the whole value.`,
        );
      }
    } else if (value.includes('#')) {
      // Unquoted, everything from # on is a comment: a password or URL holding one is cut short.
      problems.push(`${at(index, raw)} holds a # outside quotes, and the rest is dropped: quote the value ("…").`);
    }
  });
  if (open) problems.push(`${envFile}: the value line ${(open as { line: number }).line} opens is never closed.`);
  return problems;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Warnings for names in `.env` that nothing reads (a typo is silently ignored otherwise), with the nearest known name. */
export function envFileWarnings(envFile = '.env'): string[] {
  const text = readEnvFile(envFile);
  if (text === undefined) return [];
  return Object.keys(parseEnv(text))
    .filter((name) => !KNOWN_VARIABLES.has(name))
    .map((name) => {
      const [nearest] = [...KNOWN_VARIABLES]
        .map((known) => ({ known, distance: editDistance(name.toUpperCase(), known) }))
        .sort((x, y) => x.distance - y.distance);
      const hint = nearest && nearest.distance <= 3 ? `: did you mean ${nearest.known}?` : ' (see .env.example)';
      return `${envFile} sets ${name}, which nothing reads${hint}`;
    });
}

/**
 * Reads `.env` (when present) under the real environment: a real variable always wins. A
 * file that cannot be read, or has a line parseEnv would misread, is a ConfigError.
 */
export function readEnvironment(
  envFile = '.env',
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const text = readEnvFile(envFile);
  if (text === undefined) return { ...env };
  const problems = envFileProblems(text, envFile);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...parseEnv(text), ...env };
}

/** Reads and parses the configuration once; what the server and scripts call at boot. */
export function loadConfig(envFile = '.env'): Config {
  return parseConfig(readEnvironment(envFile));
}
