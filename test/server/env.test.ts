import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig, readEnvironment } from '../../server/env.ts';
import { randomSecret } from '../helpers/config.ts';

function problemsOf(vars: Record<string, string | undefined>): string[] {
  try {
    parseConfig(vars);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('JWT_SECRET', () => {
  test('accepts 32 random bytes in base64url', () => {
    expect(problemsOf({ JWT_SECRET: randomSecret() })).toEqual([]);
  });

  test.each([
    ['missing', undefined, /JWT_SECRET is missing/],
    ['empty, as in .env.example', '', /JWT_SECRET is missing/],
    ['not base64url', `${randomSecret().slice(0, 40)}+/=`, /JWT_SECRET must be base64url/],
    ['16 bytes', Buffer.alloc(16, 7).toString('base64url'), /JWT_SECRET decodes to 16 bytes/],
    ['a known example value', 'your-256-bit-secret', /JWT_SECRET is a well-known example value/],
    ['changeme', 'changeme', /JWT_SECRET is a well-known example value/],
    ['a repeated character', 'a'.repeat(64), /JWT_SECRET is not random/],
  ])('refuses a secret that is %s', (_, value, message) => {
    const problems = problemsOf({ JWT_SECRET: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(problems[0]).toContain('npm run setup');
  });

  test('checks JWT_SECRET_PREVIOUS as strictly and refuses it equal to the current key', () => {
    const secret = randomSecret();
    const until = { JWT_SECRET_PREVIOUS_UNTIL: '2026-01-31T12:00:00Z' };
    expect(problemsOf({ JWT_SECRET: secret, JWT_SECRET_PREVIOUS: 'changeme', ...until })[0]).toMatch(
      /^JWT_SECRET_PREVIOUS is a well-known example value/,
    );
    expect(problemsOf({ JWT_SECRET: secret, JWT_SECRET_PREVIOUS: secret, ...until })[0]).toMatch(
      /^JWT_SECRET_PREVIOUS equals JWT_SECRET/,
    );
  });

  test('refuses JWT_SECRET_PREVIOUS without the end of its window, or with a window that is not a time', () => {
    const vars = { JWT_SECRET: randomSecret(), JWT_SECRET_PREVIOUS: randomSecret() };
    expect(problemsOf(vars)).toEqual([expect.stringMatching(/^JWT_SECRET_PREVIOUS_UNTIL is missing.*--rotate/)]);
    expect(problemsOf({ ...vars, JWT_SECRET_PREVIOUS_UNTIL: 'next tuesday' })).toEqual([
      expect.stringMatching(/^JWT_SECRET_PREVIOUS_UNTIL must be an ISO 8601 time/),
    ]);
    expect(problemsOf({ ...vars, JWT_SECRET_PREVIOUS_UNTIL: '2026-01-31T12:00:00Z' })).toEqual([]);
  });

  test('refuses HEADERS_TIMEOUT longer than REQUEST_TIMEOUT', () => {
    expect(problemsOf({ JWT_SECRET: randomSecret(), HEADERS_TIMEOUT: '60', REQUEST_TIMEOUT: '30' })).toEqual([
      expect.stringMatching(/^HEADERS_TIMEOUT must not be longer than REQUEST_TIMEOUT/),
    ]);
  });
});

test('lists every problem at once', () => {
  const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', ACCESS_TOKEN_TTL: '-5' });
  expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['ACCESS_TOKEN_TTL', 'JWT_SECRET', 'LOG_LEVEL', 'PORT']);
});

test('derives issuer and audience from APP_ORIGIN and coerces numbers', () => {
  const config = parseConfig({
    JWT_SECRET: randomSecret(),
    APP_ORIGIN: 'https://app.example.com/',
    ACCESS_TOKEN_TTL: '60',
    PORT: '8080',
  });
  expect(config.appOrigin).toBe('https://app.example.com');
  expect(config.jwt).toMatchObject({
    issuer: 'https://app.example.com',
    audience: 'https://app.example.com/trpc',
    accessTokenTtl: 60,
    refreshTokenTtl: 604_800,
    sessionMaxAge: 2_592_000,
  });
  expect(config.port).toBe(8080);
});

/** What production needs besides APP_ORIGIN: somewhere to send mail. */
const SMTP = { SMTP_URL: 'smtps://user:pass@smtp.example.com:465', MAIL_FROM: 'App <no-reply@example.com>' };

test('defaults to the Vite dev origin in development and requires APP_ORIGIN in production', () => {
  expect(parseConfig({ JWT_SECRET: randomSecret() }).appOrigin).toBe('http://localhost:5173');
  expect(problemsOf({ JWT_SECRET: randomSecret(), NODE_ENV: 'production', ...SMTP })).toEqual([
    'APP_ORIGIN is required in production (the origin browsers load the app from).',
  ]);
  expect(problemsOf({ JWT_SECRET: randomSecret(), APP_ORIGIN: 'ftp://example.com' })[0]).toMatch(/^APP_ORIGIN /);
});

describe('mail', () => {
  const production = { JWT_SECRET: randomSecret(), NODE_ENV: 'production', APP_ORIGIN: 'https://app.example.com' };

  test('production without SMTP_URL is refused, with a message naming SMTP_URL and MAIL_FROM', () => {
    expect(problemsOf(production)).toEqual([
      expect.stringMatching(/^SMTP_URL is required in production: .*smtps:\/\/.*MAIL_FROM/),
    ]);
    expect(problemsOf({ ...production, ...SMTP })).toEqual([]);
  });

  test.each(['http://smtp.example.com', 'smtp.example.com:587', 'mailto:admin@example.com'])(
    'refuses SMTP_URL %s: it must be smtp:// or smtps://',
    (url) => {
      expect(problemsOf({ ...production, ...SMTP, SMTP_URL: url })).toEqual([
        expect.stringMatching(/^SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/),
      ]);
    },
  );

  test('refuses SMTP_URL without MAIL_FROM, in any environment', () => {
    for (const NODE_ENV of ['production', 'development', 'test']) {
      expect(problemsOf({ ...production, NODE_ENV, SMTP_URL: SMTP.SMTP_URL }), NODE_ENV).toEqual([
        expect.stringMatching(/^MAIL_FROM is required with SMTP_URL/),
      ]);
    }
  });

  test('SMTP_URL picks SMTP anywhere; without it, memory in tests and the dev mailbox in development', () => {
    const secret = { JWT_SECRET: randomSecret() };
    expect(parseConfig({ ...production, ...SMTP }).mail).toEqual({
      transport: 'smtp',
      smtpUrl: SMTP.SMTP_URL,
      from: SMTP.MAIL_FROM,
    });
    expect(parseConfig({ ...secret, NODE_ENV: 'development', ...SMTP }).mail.transport).toBe('smtp');
    expect(parseConfig({ ...secret, NODE_ENV: 'test', ...SMTP }).mail.transport).toBe('smtp');
    expect(parseConfig({ ...secret, NODE_ENV: 'test' }).mail).toMatchObject({
      transport: 'memory',
      smtpUrl: undefined,
    });
    expect(parseConfig({ ...secret, NODE_ENV: 'development' }).mail).toMatchObject({
      transport: 'dev-mailbox',
      smtpUrl: undefined,
    });
    expect(parseConfig(secret).mail.transport).toBe('dev-mailbox'); // development is the default
  });
});

test('a real environment variable wins over .env', () => {
  const envFile = join(mkdtempSync(join(tmpdir(), 'env-')), '.env');
  writeFileSync(envFile, 'PORT=4000\nHOST=0.0.0.0\n');
  expect(readEnvironment(envFile, { PORT: '5000' })).toMatchObject({ PORT: '5000', HOST: '0.0.0.0' });
});

test('argon2 below the OWASP minimum is refused unless NODE_ENV=test', () => {
  const weak = { JWT_SECRET: randomSecret(), ARGON2_MEMORY_KIB: '4096', ARGON2_TIME_COST: '1' };
  expect(problemsOf(weak)[0]).toMatch(/^ARGON2_MEMORY_KIB and ARGON2_TIME_COST must be at least 19456 and 2/);
  expect(problemsOf({ ...weak, NODE_ENV: 'production', APP_ORIGIN: 'https://app.example.com', ...SMTP })).toEqual([
    expect.stringMatching(/^ARGON2_MEMORY_KIB and ARGON2_TIME_COST/),
  ]);
  expect(problemsOf({ ...weak, NODE_ENV: 'test' })).toEqual([]);
});
