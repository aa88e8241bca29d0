import js from '@eslint/js';
import drizzle from 'eslint-plugin-drizzle';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Generated output, reports and local databases are not authored code.
  {
    ignores: ['dist/', 'node_modules/', 'web/dist/', 'playwright-report/', 'test-results/', 'coverage/', 'data/'],
  },

  // Core rules catch real bugs (unreachable code, duplicate keys) in JS and TS alike.
  js.configs.recommended,

  // Type-aware rules exist to catch missing awaits during the sync -> async DB conversion.
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // React ignores the promise returned by async onClick/onSubmit handlers, so that's fine.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      // `_` marks intentionally unused bindings, matching tsc's noUnusedParameters convention.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },

  // The app reads its configuration once, in server/env.ts, where every variable is parsed
  // and documented; anywhere else a typo in a name would silently read undefined. Server
  // code is typed all the way down: an `any` there is a hole in the auth checks' types.
  {
    files: ['server/**/*.ts', 'db/**/*.ts'],
    ignores: ['server/env.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through server/env.ts (loadConfig).' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },

  // A DELETE/UPDATE without WHERE wipes a whole table; `tx` covers transaction callbacks.
  {
    files: ['server/**/*.ts', 'scripts/**/*.ts'],
    plugins: { drizzle },
    rules: {
      'drizzle/enforce-delete-with-where': ['error', { drizzleObjectName: ['db', 'tx'] }],
      'drizzle/enforce-update-with-where': ['error', { drizzleObjectName: ['db', 'tx'] }],
    },
  },

  // Queries run on SQLite and PostgreSQL (db/client.ts): SQLite's own result methods and
  // the raw connection exist on one engine only, so shared code awaits the query instead.
  {
    files: ['server/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts', 'db/**/*.ts'],
    ignores: ['db/sqlite.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[arguments.length=0] > MemberExpression.callee > Identifier.property[name=/^(get|all|run)$/]',
          message: 'SQLite-only: await the query (`const [row] = await db.select()…`) so it also runs on PostgreSQL.',
        },
        {
          selector: 'MemberExpression > Identifier.property[name="$client"]',
          message:
            'The raw connection is engine-specific: use db.ping()/db.close(), or sqliteConnection(db) in SQLite-only code.',
        },
      ],
    },
  },
);
