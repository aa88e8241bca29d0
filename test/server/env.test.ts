import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { generateKeyPair } from '../../server/auth/signing-keys.ts';
import { ConfigError, envFileProblems, parseConfig as parseVariables, readEnvironment } from '../../server/env.ts';
import { randomSecret } from '../helpers/config.ts';

/** Every test but ENCRYPTION_KEY's own has one: it is required, and not what they are about. */
const ENCRYPTION_KEY = randomSecret();
const parseConfig = (vars: Record<string, string | undefined>) => parseVariables({ ENCRYPTION_KEY, ...vars });

function problemsOf(vars: Record<string, string | undefined>): string[] {
  try {
    parseConfig(vars);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('ENCRYPTION_KEY', () => {
  const problems = (value: string | undefined) => {
    try {
      parseVariables({ JWT_SECRET: randomSecret(), ENCRYPTION_KEY: value });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  test('may be left out (no two-step verification then); set, it is as strong as a signing secret and never that secret', () => {
    expect(problems(randomSecret())).toEqual([]);
    expect(problems(undefined)).toEqual([]);
    expect(parseVariables({ JWT_SECRET: randomSecret() }).encryptionKey).toBeUndefined();
    expect(problems('changeme')).toEqual([expect.stringMatching(/^ENCRYPTION_KEY is a well-known example value/)]);
    expect(problems(Buffer.alloc(16, 3).toString('base64url'))[0]).toMatch(/ENCRYPTION_KEY decodes to 16 bytes/);
    const secret = randomSecret();
    expect(() => parseVariables({ JWT_SECRET: secret, ENCRYPTION_KEY: secret })).toThrow(
      /ENCRYPTION_KEY equals JWT_SECRET/,
    );
  });
});

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

test('in production, a plain-http APP_ORIGIN other than localhost is refused with the reason, unless allowed', () => {
  const production = { JWT_SECRET: randomSecret(), NODE_ENV: 'production', ...SMTP };
  expect(problemsOf({ ...production, APP_ORIGIN: 'http://app.example.com' })).toEqual([
    expect.stringMatching(
      /^APP_ORIGIN is plain http \(http:\/\/app\.example\.com\): browsers drop the Secure.*ALLOW_HTTP_ORIGIN=true/,
    ),
  ]);
  expect(problemsOf({ ...production, APP_ORIGIN: 'http://app.example.com', ALLOW_HTTP_ORIGIN: 'true' })).toEqual([]);
  for (const local of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://app.localhost']) {
    expect(problemsOf({ ...production, APP_ORIGIN: local }), local).toEqual([]);
  }
  expect(problemsOf({ ...production, APP_ORIGIN: 'https://app.example.com' })).toEqual([]);
  // Development keeps any origin: a phone on the LAN, say.
  expect(problemsOf({ JWT_SECRET: randomSecret(), APP_ORIGIN: 'http://192.168.1.20:5173' })).toEqual([]);
  expect(problemsOf({ ...production, APP_ORIGIN: 'http://localhost', ALLOW_HTTP_ORIGIN: 'yes' })[0]).toMatch(
    /^ALLOW_HTTP_ORIGIN /,
  );
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

describe('JWT_ALG and its keys', () => {
  const ed = generateKeyPair('EdDSA');
  const p256 = generateKeyPair('ES256');
  const der = (key: { export: (o: { format: 'der'; type: 'pkcs8' }) => Buffer }) =>
    key.export({ format: 'der', type: 'pkcs8' }).toString('base64url');
  const p384 = der(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
  const ed448 = der(generateKeyPairSync('ed448').privateKey);
  const rsa = der(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  const pem = createPrivateKey({ key: Buffer.from(ed.privateKey, 'base64url'), format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
  const until = { JWT_PUBLIC_KEY_PREVIOUS_UNTIL: '2026-01-31T12:00:00Z' };
  /** An Ed25519 key in standard base64, the PEM body's alphabet (one with a "+" or "/" in it). */
  const standardBase64 = (() => {
    for (;;) {
      const base64 = Buffer.from(generateKeyPair('EdDSA').privateKey, 'base64url').toString('base64');
      if (/[+/]/.test(base64)) return base64;
    }
  })();

  test('accepts an Ed25519 key with EdDSA and a P-256 key with ES256, and needs no JWT_SECRET', () => {
    const eddsa = parseConfig({ JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed.privateKey });
    expect(eddsa.jwt).toMatchObject({ alg: 'EdDSA', secret: undefined, previousPublicKey: undefined });
    expect(eddsa.jwt.privateKey?.asymmetricKeyType).toBe('ed25519');
    const es256 = parseConfig({ JWT_ALG: 'ES256', JWT_PRIVATE_KEY: p256.privateKey });
    expect(es256.jwt.privateKey?.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    // With a previous public key and its window.
    const rotated = parseConfig({
      JWT_ALG: 'EdDSA',
      JWT_PRIVATE_KEY: ed.privateKey,
      JWT_PUBLIC_KEY_PREVIOUS: generateKeyPair('EdDSA').publicKey,
      ...until,
    });
    expect(rotated.jwt.previousPublicKey?.type).toBe('public');
    expect(rotated.jwt.previousPublicKeyUntil).toEqual(new Date(until.JWT_PUBLIC_KEY_PREVIOUS_UNTIL));
  });

  test.each(['RS256', 'none', 'hs256', 'eddsa', 'HS512', 'ES384'])('refuses JWT_ALG=%s', (alg) => {
    expect(problemsOf({ JWT_ALG: alg, JWT_SECRET: randomSecret() })).toEqual([
      'JWT_ALG must be HS256, EdDSA, ES256 or empty (HS256)',
    ]);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    [
      'EdDSA without a key',
      { JWT_ALG: 'EdDSA' },
      /^JWT_PRIVATE_KEY is missing: JWT_ALG=EdDSA signs with a private key\. Run `npm run setup`/,
    ],
    [
      'ES256 with an empty key, as in .env.example',
      { JWT_ALG: 'ES256', JWT_PRIVATE_KEY: '' },
      /^JWT_PRIVATE_KEY is missing: JWT_ALG=ES256/,
    ],
    [
      'EdDSA with a P-256 key',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: p256.privateKey },
      /^JWT_PRIVATE_KEY is an EC prime256v1 key, but JWT_ALG=EdDSA needs an Ed25519 key\./,
    ],
    [
      'ES256 with an Ed25519 key',
      { JWT_ALG: 'ES256', JWT_PRIVATE_KEY: ed.privateKey },
      /^JWT_PRIVATE_KEY is an Ed25519 key, but JWT_ALG=ES256 needs an? P-256 key\./,
    ],
    [
      'ES256 with a P-384 key',
      { JWT_ALG: 'ES256', JWT_PRIVATE_KEY: p384 },
      /^JWT_PRIVATE_KEY is an EC secp384r1 key, but JWT_ALG=ES256/,
    ],
    [
      'EdDSA with an Ed448 key',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed448 },
      /^JWT_PRIVATE_KEY is an ed448 key, but JWT_ALG=EdDSA needs an Ed25519 key/,
    ],
    [
      'EdDSA with an RSA key',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: rsa },
      /^JWT_PRIVATE_KEY is an rsa key, but JWT_ALG=EdDSA/,
    ],
    [
      'EdDSA with the public key (SPKI) instead',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed.publicKey },
      /^JWT_PRIVATE_KEY is not a PKCS#8 private key/,
    ],
    [
      'EdDSA with a truncated key',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed.privateKey.slice(0, -4) },
      /^JWT_PRIVATE_KEY is not a PKCS#8 private key/,
    ],
    [
      'EdDSA with 32 random bytes (a raw seed or a secret)',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: randomSecret() },
      /^JWT_PRIVATE_KEY is not a PKCS#8 private key/,
    ],
    [
      'EdDSA with a PEM-armoured key',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: pem },
      /^JWT_PRIVATE_KEY must be a base64url PKCS#8 DER key \(no PEM armour\)/,
    ],
    [
      'EdDSA with the PEM body alone (standard base64)',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: standardBase64 },
      /^JWT_PRIVATE_KEY must be a base64url PKCS#8 DER key/,
    ],
    [
      'HS256 with a private key',
      { JWT_ALG: 'HS256', JWT_SECRET: randomSecret(), JWT_PRIVATE_KEY: ed.privateKey },
      /^JWT_PRIVATE_KEY is set but JWT_ALG is HS256/,
    ],
    [
      'an empty JWT_ALG (HS256) with a private key',
      { JWT_ALG: '', JWT_SECRET: randomSecret(), JWT_PRIVATE_KEY: ed.privateKey },
      /^JWT_PRIVATE_KEY is set but JWT_ALG is HS256/,
    ],
    [
      'a previous public key without its window',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed.privateKey, JWT_PUBLIC_KEY_PREVIOUS: generateKeyPair('EdDSA').publicKey },
      /^JWT_PUBLIC_KEY_PREVIOUS_UNTIL is missing: .*--rotate/,
    ],
    [
      'a previous public key of the other curve',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed.privateKey, JWT_PUBLIC_KEY_PREVIOUS: p256.publicKey, ...until },
      /^JWT_PUBLIC_KEY_PREVIOUS is an EC prime256v1 key, but JWT_ALG=EdDSA/,
    ],
    [
      'a private key as the previous public key',
      {
        JWT_ALG: 'EdDSA',
        JWT_PRIVATE_KEY: ed.privateKey,
        JWT_PUBLIC_KEY_PREVIOUS: generateKeyPair('EdDSA').privateKey,
        ...until,
      },
      /^JWT_PUBLIC_KEY_PREVIOUS is not a SPKI public key/,
    ],
    [
      'the current key as the previous one (new tokens would get its limits)',
      { JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: ed.privateKey, JWT_PUBLIC_KEY_PREVIOUS: ed.publicKey, ...until },
      /^JWT_PUBLIC_KEY_PREVIOUS is the public half of JWT_PRIVATE_KEY/,
    ],
    [
      'a previous window that is not a time',
      {
        JWT_ALG: 'EdDSA',
        JWT_PRIVATE_KEY: ed.privateKey,
        JWT_PUBLIC_KEY_PREVIOUS: generateKeyPair('EdDSA').publicKey,
        JWT_PUBLIC_KEY_PREVIOUS_UNTIL: 'in 15 minutes',
      },
      /^JWT_PUBLIC_KEY_PREVIOUS_UNTIL must be an ISO 8601 time/,
    ],
  ])('refuses %s, in one problem that does not quote the key', (_, vars, message) => {
    const problems = problemsOf(vars);
    expect(problems).toEqual([expect.stringMatching(message)]);
    // Neither key, nor any line of a PEM body, nor a key's tail (its secret part).
    for (const key of [vars.JWT_PRIVATE_KEY, vars.JWT_PUBLIC_KEY_PREVIOUS].filter(Boolean) as string[]) {
      for (const line of key.split('\n').filter((l) => l.length > 16)) expect(problems[0]).not.toContain(line);
      expect(problems[0]).not.toContain(key.trim().slice(-24));
    }
  });

  test('a missing private key is listed with the other problems', () => {
    const problems = problemsOf({ JWT_ALG: 'EdDSA', PORT: 'eighty' });
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['JWT_PRIVATE_KEY', 'PORT']);
  });
});

describe('JWT_SERVICES', () => {
  const eddsa = () => ({ JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: generateKeyPair('EdDSA').privateKey });

  test('parses name=audience pairs, spaces and empty entries aside', () => {
    const config = parseConfig({
      ...eddsa(),
      JWT_SERVICES: ' reports=https://reports.example.com , billing-2=https://billing.example.com/api,,',
    });
    expect(config.jwt.services).toEqual({
      reports: 'https://reports.example.com',
      'billing-2': 'https://billing.example.com/api',
    });
    expect(parseConfig({ ...eddsa(), JWT_SERVICES: '' }).jwt.services).toEqual({});
    expect(parseConfig(eddsa()).jwt.services).toEqual({});
  });

  test.each<[string, Record<string, string>, RegExp[]]>([
    ['an entry without "="', { JWT_SERVICES: 'reports' }, [/^JWT_SERVICES entry "reports" must be name=audience/]],
    [
      'an entry with no audience',
      { JWT_SERVICES: 'reports=' },
      [/^JWT_SERVICES entry "reports=" must be name=audience/],
    ],
    [
      'an upper-case name',
      { JWT_SERVICES: 'Reports=https://r.example.com' },
      [/^JWT_SERVICES entry "Reports=https:\/\/r\.example\.com" must be name=audience/],
    ],
    [
      'a name starting with a digit',
      { JWT_SERVICES: '1reports=https://r.example.com' },
      [/^JWT_SERVICES entry "1reports=/],
    ],
    [
      'an audience with a space',
      { JWT_SERVICES: 'reports=https://r.example.com x' },
      [/^JWT_SERVICES entry "reports=https:\/\/r\.example\.com x"/],
    ],
    [
      'a name over 32 characters',
      { JWT_SERVICES: `${'r'.repeat(33)}=https://r.example.com` },
      [/^JWT_SERVICES entry "r{33}=/],
    ],
    [
      'the same name twice',
      { JWT_SERVICES: 'reports=https://r.example.com,reports=https://r2.example.com' },
      [/^JWT_SERVICES names the service "reports" twice\./],
    ],
    [
      'the same audience for two services',
      { JWT_SERVICES: 'reports=https://r.example.com,billing=https://r.example.com' },
      [/^JWT_SERVICES gives the audience https:\/\/r\.example\.com to two services: each service needs its own\./],
    ],
    [
      "this API's own default audience",
      { JWT_SERVICES: 'reports=http://localhost:5173/trpc' },
      [
        /^JWT_SERVICES gives reports this API's own audience \(http:\/\/localhost:5173\/trpc\): its tokens would work here\./,
      ],
    ],
    [
      "this API's audience derived from APP_ORIGIN",
      { APP_ORIGIN: 'https://app.example.com', JWT_SERVICES: 'reports=https://app.example.com/trpc' },
      [/^JWT_SERVICES gives reports this API's own audience \(https:\/\/app\.example\.com\/trpc\)/],
    ],
    [
      "this API's JWT_AUDIENCE",
      { JWT_AUDIENCE: 'urn:example:api', JWT_SERVICES: 'reports=https://r.example.com,api=urn:example:api' },
      [/^JWT_SERVICES gives api this API's own audience \(urn:example:api\)/],
    ],
    [
      'several mistakes at once',
      { JWT_SERVICES: 'bad,reports=https://r.example.com,reports=https://x.example.com' },
      [/^JWT_SERVICES entry "bad"/, /^JWT_SERVICES names the service "reports" twice/],
    ],
  ])('refuses %s', (_, vars, messages) => {
    expect(problemsOf({ ...eddsa(), ...vars })).toEqual(messages.map((m) => expect.stringMatching(m)));
  });

  test("accepts a service whose audience only looks like this API's (another origin or path)", () => {
    const services = 'reports=http://localhost:5173/trpc/reports,other=https://localhost:5173/trpc';
    expect(problemsOf({ ...eddsa(), JWT_SERVICES: services })).toEqual([]);
  });

  test('refuses services with HS256: a service could only verify with the secret that mints tokens', () => {
    const needs = /^JWT_SERVICES needs JWT_ALG=EdDSA or ES256: .*Set JWT_ALG=EdDSA and run `npm run setup`/;
    for (const alg of [{}, { JWT_ALG: '' }, { JWT_ALG: 'HS256' }]) {
      expect(problemsOf({ ...alg, JWT_SECRET: randomSecret(), JWT_SERVICES: 'reports=https://r.example.com' })).toEqual(
        [expect.stringMatching(needs)],
      );
    }
    // Without services, HS256 is fine.
    expect(problemsOf({ JWT_SECRET: randomSecret(), JWT_SERVICES: '' })).toEqual([]);
  });
});

describe('.env lines parseEnv would misread without a word', () => {
  test('a valid file passes: quotes with #, = in values, export, CRLF, multi-line values, empty values', () => {
    const text =
      'A=1\nB="x # y"\nC=a=b\nexport D=4\r\nE="multi\nline"\nF=\nG=\'q\'\nH=`t`\n# note\nI="x" # fine\nJ=last';
    expect(envFileProblems(text)).toEqual([]);
  });

  test.each([
    ['a line without "="', 'PORT 3000\n', /line 1 \("PORT 3000"\) is not NAME=value/],
    [
      'an unclosed quote swallowing the next lines',
      'A="abc\nB=1\nC="x"\n',
      /line 2 \("B=1"\) is swallowed by the value that line 1 opens/,
    ],
    [
      'text after a closing quote',
      'MAIL_FROM="App" <a@example.com>\n',
      /has text after its closing ", which is dropped/,
    ],
    ['a # outside quotes', 'DATABASE_URL=postgres://u:pa#ss@h/db\n', /holds a # outside quotes/],
    ['a tab inside the name', '\tA\t=1\n', /is not read as A/],
    ['a quote never closed', 'A="abc\n', /the value line 1 opens is never closed/],
  ])('%s is refused, naming the line', (_, text, message) => {
    expect(envFileProblems(text).join('\n')).toMatch(message);
  });
});
