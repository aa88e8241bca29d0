// The hygiene check, on throwaway git repositories.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { randomSecret } from '../helpers/config.ts';
import { ROOT, spawnScript } from '../helpers/server.ts';

function repoWith(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'hygiene-'));
  execFileSync('git', ['init', '-q'], { cwd: dir });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  execFileSync('git', ['add', '-A'], { cwd: dir });
  return dir;
}

async function check(dir: string, env: Record<string, string> = {}) {
  const run = spawnScript('scripts/check-hygiene.ts', ROOT, { HOME: process.env.HOME ?? '', ...env }, [
    '--repo',
    dir,
    '--skip-audit',
  ]);
  return { code: await run.exitCode, output: run.output() };
}

test('passes a clean repository', async () => {
  expect((await check(repoWith({ 'README.md': '# ok\n', '.env.example': 'JWT_SECRET=\n' }))).code).toBe(0);
});

// A degit copy has no .git; a clone (and CI) has, and must itself pass.
test.skipIf(!existsSync(join(ROOT, '.git')))('passes this repository', async () => {
  const self = await check(ROOT);
  expect(self.code, self.output).toBe(0);
});

test('a tracked file deleted in the working tree (not yet committed) is no error; the others are still checked', async () => {
  const dir = repoWith({
    'gone.ts': '// deleted later\n',
    'config.ts': `const key = 'JWT_SECRET=${randomSecret()}';\n`,
  });
  rmSync(join(dir, 'gone.ts'));
  const { code, output } = await check(dir);
  expect(code).toBe(1);
  expect(output).toMatch(/config\.ts:1: looks like a JWT signing key/);
  expect(output).not.toMatch(/ENOENT|gone\.ts/);
});

test('reports each check; outside a repository the tracked-file check is skipped, and says so', async () => {
  const { code, output } = await check(mkdtempSync(join(tmpdir(), 'no-git-')));
  expect(code).toBe(0);
  expect(output).toContain('tracked files: skipped: not a git repository');
  expect(output).toContain('npm audit: skipped: --skip-audit');
  expect(output).toContain('only 0 of 2 checks ran');
  expect(output).not.toMatch(/Hygiene check passed\./);
});

test('in CI, a check that should run and did not fails the run; one skipped on purpose does not', async () => {
  const skipped = await check(mkdtempSync(join(tmpdir(), 'no-git-')), { CI: 'true' });
  expect(skipped.code).toBe(1);
  expect(skipped.output).toContain('in CI every check must run, and tracked files did not');
  const clean = await check(repoWith({ 'README.md': '# ok\n' }), { CI: 'true' });
  expect(clean.code, clean.output).toBe(0);
  expect(clean.output).toContain('tracked files: passed (1 files)');
});

test.each([
  ['a tracked .env', { '.env': 'PORT=3000\n' }, /\.env: an environment file is tracked/],
  [
    'a tracked .env.production',
    { '.env.production': 'PORT=3000\n' },
    /\.env\.production: an environment file is tracked/,
  ],
  [
    'a hard-coded signing key',
    { 'config.ts': `const env = { JWT_SECRET: '${randomSecret()}' };\n` },
    /config\.ts:1: looks like a JWT signing key/,
  ],
  // Joined at run time, so this file does not itself look like it holds a token.
  [
    'a committed token',
    {
      'fixture.json': `{"token":"${['eyJhbGciOiJIUzI1NiJ9', 'eyJzdWIiOiIxMjM0NTY3ODkwIn0', 'c2lnbmF0dXJlLXNpZ25hdHVyZQ'].join('.')}"}\n`,
    },
    /looks like a JSON Web Token/,
  ],
  ['a private key', { 'key.pem': `-----BEGIN ${'PRIVATE'} KEY-----\nabc\n` }, /key\.pem:1: looks like a private key/],
])('fails on %s', async (_, files, message) => {
  const { code, output } = await check(repoWith(files));
  expect(code).toBe(1);
  expect(output).toMatch(message);
});
