// The database holds password hashes and session tokens' hashes: other local users
// of the machine must not be able to read it. These tests open their own SQLite files,
// so they run whatever engine TEST_DATABASE_URL names.
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DatabaseUrlError, describeDatabase, dialectOf, openDatabase } from '../../db/client.ts';
import { sqliteConnection } from '../../db/sqlite.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);
const tempDir = () => mkdtempSync(join(tmpdir(), 'db-client-'));

// Windows has no Unix modes; its ACLs follow the user's profile folder.
const unixOnly = test.skipIf(process.platform === 'win32');

unixOnly('a new database, its WAL files and every folder created for it are private to the owner', async () => {
  const root = tempDir();
  const file = join(root, 'data', 'nested', 'app.db');
  const db = await openDatabase(file);
  try {
    sqliteConnection(db).exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    expect({
      data: modeOf(join(root, 'data')),
      nested: modeOf(join(root, 'data', 'nested')),
      db: modeOf(file),
      wal: modeOf(`${file}-wal`),
      shm: modeOf(`${file}-shm`),
    }).toEqual({ data: '700', nested: '700', db: '600', wal: '600', shm: '600' });
  } finally {
    await db.close();
  }
});

unixOnly('a folder that already exists keeps its mode (the project root is not locked)', async () => {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const db = await openDatabase(join(dir, 'app.db'));
  await db.close();
  expect(modeOf(dir)).toBe('755');
  expect(modeOf(join(dir, 'app.db'))).toBe('600');
});

test('a URL of an unsupported engine is refused with a one-line message, not opened as a file', async () => {
  const url = 'mysql://app:secret@127.0.0.1:3306/app';
  expect(() => dialectOf(url)).toThrow(DatabaseUrlError);
  const error = await openDatabase(url).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatabaseUrlError);
  const { message } = error as DatabaseUrlError;
  expect(message).not.toContain('\n');
  expect(message).toContain('mysql://');
  // The URL's credentials are not echoed into logs.
  expect(message).not.toContain('secret');
  expect(dialectOf('postgres://app@127.0.0.1/app')).toBe('postgres');
  expect(dialectOf('postgresql://app@127.0.0.1/app')).toBe('postgres');
  expect(dialectOf('data/app.db')).toBe('sqlite');
  expect(dialectOf('file:data/app.db')).toBe('sqlite');
  expect(dialectOf(':memory:')).toBe('sqlite');
});

test('describeDatabase masks a PostgreSQL password wherever it is, and never quotes a URL that does not parse', () => {
  expect(describeDatabase('data/app.db')).toBe('data/app.db');
  expect(describeDatabase('postgres://app:s3cret@db:5432/app')).toBe('postgres://app:***@db:5432/app');
  expect(describeDatabase('postgres://app@db/app?password=s3cret&sslmode=require')).toBe(
    'postgres://app@db/app?password=***&sslmode=require',
  );
  const unparseable = describeDatabase('postgres://app:s3c#ret/x@db:5432/app');
  expect(unparseable).not.toContain('s3c');
  expect(unparseable).toMatch(/does not parse/);
});
