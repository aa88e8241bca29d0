import { randomBytes } from 'node:crypto';
import { type Config, parseConfig } from '../../server/env.ts';
import { ALGORITHMS, type Algorithm, generateKeyPair } from '../../server/auth/signing-keys.ts';

/** A fresh random secret per call: tests never share or hard-code keys. */
export const randomSecret = () => randomBytes(32).toString('base64url');

/**
 * The algorithm in-process test servers sign with: `JWT_ALG=EdDSA npm test` runs the whole
 * suite on EdDSA (CI runs it both ways). Tests about one algorithm pass JWT_ALG themselves.
 */
export const TEST_JWT_ALG = (process.env.JWT_ALG || 'HS256') as Algorithm;
if (!ALGORITHMS.includes(TEST_JWT_ALG)) throw new Error(`JWT_ALG=${TEST_JWT_ALG} is not one of ${ALGORITHMS}`);

/** Variables for a fresh signing key of `alg`. */
export function freshKeyVars(alg: Algorithm = TEST_JWT_ALG): Record<string, string> {
  const encryption = { ENCRYPTION_KEY: randomSecret() };
  return alg === 'HS256'
    ? { JWT_ALG: alg, JWT_SECRET: randomSecret(), ...encryption }
    : { JWT_ALG: alg, JWT_PRIVATE_KEY: generateKeyPair(alg).privateKey, ...encryption };
}

/** Variables that boot a server with the same signing key as `config` (a restart). */
export function sameKeyVars(config: Config): Record<string, string> {
  const { alg, secret, privateKey } = config.jwt;
  const encryption: Record<string, string> = config.encryptionKey
    ? { ENCRYPTION_KEY: config.encryptionKey.toString('base64url') }
    : {};
  return alg === 'HS256'
    ? { JWT_ALG: alg, JWT_SECRET: secret!, ...encryption }
    : {
        JWT_ALG: alg,
        JWT_PRIVATE_KEY: privateKey!.export({ format: 'der', type: 'pkcs8' }).toString('base64url'),
        ...encryption,
      };
}

/** A valid test configuration on an in-memory database; override any variable. */
export function testConfig(vars: Record<string, string> = {}) {
  // A test that brings its own JWT_SECRET is about HS256.
  const alg = (vars.JWT_ALG ?? (vars.JWT_SECRET ? 'HS256' : TEST_JWT_ALG)) as Algorithm;
  return parseConfig({
    NODE_ENV: 'test',
    ...freshKeyVars(alg),
    DATABASE_URL: ':memory:',
    PORT: '0',
    // Test clients stand for different devices: each sends its own X-Forwarded-For.
    TRUST_PROXY: '1',
    // Cheap hashing keeps the suite fast; production refuses these values.
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ...vars,
  });
}
