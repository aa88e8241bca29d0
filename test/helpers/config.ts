import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../server/env.ts';

/** A fresh random secret per call: tests never share or hard-code keys. */
export const randomSecret = () => randomBytes(32).toString('base64url');

/** A valid test configuration on an in-memory database; override any variable. */
export function testConfig(vars: Record<string, string> = {}) {
  return parseConfig({
    NODE_ENV: 'test',
    JWT_SECRET: randomSecret(),
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
