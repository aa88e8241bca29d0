// The extension promise, checked: a new role is one line in server/auth/roles.ts, and
// nothing else anywhere has to change for the server, the SPA, the scripts and the tests
// to typecheck. A copy of the project gets an `editor` role; tsc runs on it as CI does.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { ROOT } from '../helpers/server.ts';

const run = promisify(execFile);
const copy = mkdtempSync(join(tmpdir(), 'new-role-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const ROLE_LINE = "  editor: ['note:create:own', 'note:read:any', 'note:update:any'],";

test('adding a role to ROLE_PERMISSIONS is the only edit: server, web, scripts and tests still typecheck', async () => {
  for (const entry of ['server', 'web', 'db', 'scripts', 'test', 'examples']) {
    cpSync(join(ROOT, entry), join(copy, entry), {
      recursive: true,
      filter: (path) => !/[\\/](node_modules|dist)([\\/]|$)/.test(path),
    });
  }
  for (const file of [
    'tsconfig.json',
    'package.json',
    'drizzle.config.ts',
    'vitest.config.ts',
    'playwright.config.ts',
  ]) {
    cpSync(join(ROOT, file), join(copy, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');

  const rolesFile = join(copy, 'server/auth/roles.ts');
  const roles = readFileSync(rolesFile, 'utf8');
  const opening = 'export const ROLE_PERMISSIONS = {\n';
  expect(roles).toContain(opening);
  writeFileSync(rolesFile, roles.replace(opening, `${opening}${ROLE_LINE}\n`));

  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  for (const project of ['tsconfig.json', 'web/tsconfig.json']) {
    const result = await run(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: copy }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    expect(result.stdout, `tsc -p ${project} with an editor role`).toBe('');
  }
}, 180_000);
