// The database holds password hashes and session tokens' hashes: other local users
// of the machine must not be able to read it.
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openDatabase } from '../../db/client.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);
const tempDir = () => mkdtempSync(join(tmpdir(), 'db-client-'));

// Windows has no Unix modes; its ACLs follow the user's profile folder.
const unixOnly = test.skipIf(process.platform === 'win32');

unixOnly('a new database, its WAL files and every folder created for it are private to the owner', () => {
  const root = tempDir();
  const file = join(root, 'data', 'nested', 'app.db');
  const db = openDatabase(file);
  try {
    db.$client.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    expect({
      data: modeOf(join(root, 'data')),
      nested: modeOf(join(root, 'data', 'nested')),
      db: modeOf(file),
      wal: modeOf(`${file}-wal`),
      shm: modeOf(`${file}-shm`),
    }).toEqual({ data: '700', nested: '700', db: '600', wal: '600', shm: '600' });
  } finally {
    db.$client.close();
  }
});

unixOnly('a folder that already exists keeps its mode (the project root is not locked)', () => {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const db = openDatabase(join(dir, 'app.db'));
  db.$client.close();
  expect(modeOf(dir)).toBe('755');
  expect(modeOf(join(dir, 'app.db'))).toBe('600');
});
