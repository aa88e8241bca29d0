// What a newcomer can get wrong in the first hour, each tried on the real processes: the
// server (as `npm start` and `npm run dev` run it), `npm start` itself, setup and
// db:migrate. Each must end in one message that names the file or variable and the fix,
// a non-zero exit, and no stack trace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';
import { randomSecret } from '../helpers/config.ts';
import { ROOT, freePort } from '../helpers/server.ts';

const TSX = [join(ROOT, 'node_modules/tsx/dist/cli.mjs')];
/** Root ignores file modes: the permission cases run as `nobody` then. */
const NOBODY = process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : undefined;
/**
 * Whether `nobody` can run the project's code at all: not when the checkout sits below a
 * folder only root may enter (a CI workspace in /root or a 0700 temp folder). Those runs
 * skip the permission cases and say why, rather than fail on a module not found.
 */
const PERMISSION_CASES_RUN =
  !NOBODY ||
  spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(TSX[0])})`], NOBODY).status === 0;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A fresh folder anyone may enter (the permission cases run as another user). */
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'first-hour-'));
  chmodSync(dir, 0o777);
  return dir;
}

/** Runs `args` with node (or `command`) in `cwd` until it exits (or 20 s); returns its exit code and output. */
function run(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  options: { asNobody?: boolean; command?: string } = {},
) {
  const child: ChildProcess = spawn(options.command ?? process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a hang is killed with everything it started (tsx watch, Vite).
    detached: true,
    ...(options.asNobody ? NOBODY : {}),
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      resolve({ code: null, output });
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const server = (cwd: string, env: Record<string, string>, options?: { asNobody?: boolean }) =>
  run([...TSX, join(ROOT, 'server/main.ts')], cwd, { JWT_SECRET: randomSecret(), ...env }, options);

function expectClearFailure(result: { code: number | null; output: string }, message: RegExp) {
  expect(result.code, result.output).not.toBe(0);
  expect(result.code, 'killed: it hung instead of exiting').not.toBeNull();
  expect(result.output).toMatch(message);
  expect(result.output, 'a stack trace').not.toMatch(/\n\s+at \S/);
}

/** A port another program holds until the test ends. */
async function occupiedPort(): Promise<number> {
  const busy: Server = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => busy.close());
  return (busy.address() as { port: number }).port;
}

type Case = [string, (dir: string) => Record<string, string>, RegExp, { asNobody?: boolean }?];

const databaseCases: Case[] = [
  [
    'DATABASE_URL names a directory',
    (dir) => ({ DATABASE_URL: dir }),
    /DATABASE_URL names a directory \(.*\): point it at a file, such as .*app\.db/,
  ],
  [
    'the file is not a database',
    (dir) => {
      writeFileSync(join(dir, 'app.db'), randomBytes(4096));
      return { DATABASE_URL: join(dir, 'app.db') };
    },
    /app\.db is not a SQLite database \(or its header is damaged\): restore the right file, or to start afresh/,
  ],
  [
    'the database is damaged past its header',
    (dir) => {
      writeFileSync(join(dir, 'app.db'), Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(4096)]));
      return { DATABASE_URL: join(dir, 'app.db') };
    },
    /app\.db is (not a SQLite database|damaged)/,
  ],
  [
    'the database file is read-only',
    (dir) => {
      const file = join(dir, 'app.db');
      new Database(file).close();
      chmodSync(file, 0o444);
      return { DATABASE_URL: file };
    },
    /app\.db is read-only here: .*write access/,
    { asNobody: true },
  ],
  [
    'the data directory is not writable',
    (dir) => {
      mkdirSync(join(dir, 'data'), { mode: 0o555 });
      chmodSync(join(dir, 'data'), 0o555);
      return { DATABASE_URL: join(dir, 'data', 'app.db') };
    },
    /Cannot create or open .*app\.db: .*data is not writable here \(EACCES\)/,
    { asNobody: true },
  ],
  [
    '.env is a directory',
    (dir) => {
      mkdirSync(join(dir, '.env'));
      return {};
    },
    /\.env cannot be read \(it is a directory\)/,
  ],
  [
    '.env has a line without "="',
    (dir) => {
      writeFileSync(join(dir, '.env'), `# settings\nJWT_SECRET=${randomSecret()}\nPORT 3000\nHOST=127.0.0.1\n`);
      return { JWT_SECRET: '' };
    },
    /\.env line 3 \("PORT 3000"\) is not NAME=value: add the "=", or make it a # comment/,
  ],
];

test.for(databaseCases)('the server refuses to start when %s', async ([, arrange, message, options], { skip }) => {
  // Reported as skipped, with the reason, rather than failing on a module nobody may read.
  if (options?.asNobody && !PERMISSION_CASES_RUN) skip(`as root this runs as nobody, who cannot read ${ROOT}`);
  const dir = tempDir();
  const env = arrange(dir);
  const result = await server(dir, { DATABASE_URL: join(dir, 'data', 'app.db'), PORT: '0', ...env }, options);
  expectClearFailure(result, message);
  expect(result.output).toMatch(/^Refusing to start\./m);
});

test('db:migrate and setup say the same in one line', async () => {
  const dir = tempDir();
  const env = { DATABASE_URL: dir, JWT_SECRET: randomSecret() };
  copyFileSync(join(ROOT, '.env.example'), join(dir, '.env.example'));
  expectClearFailure(
    await run([...TSX, join(ROOT, 'scripts/migrate.ts')], dir, env),
    /^db:migrate: DATABASE_URL names a directory/m,
  );
  expectClearFailure(
    await run([...TSX, join(ROOT, 'scripts/setup.ts')], dir, env),
    /^setup: Cannot set up the database .* \(SQLite\): DATABASE_URL names a directory/m,
  );
});

test('another program holding the database locked: a clear message after the 5-second wait', async () => {
  const dir = tempDir();
  const file = join(dir, 'app.db');
  const holder = new Database(file);
  holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
  cleanups.push(() => holder.close());
  expectClearFailure(await server(dir, { DATABASE_URL: file, PORT: '0' }), /app\.db is locked by another program/);
});

test('a misspelled variable in .env is named with the one it resembles; the server still starts', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, '.env'), `JWT_SECRET=${randomSecret()}\nACCES_TOKEN_TTL=60\nMY_OWN_THING=1\n`);
  const port = await freePort();
  const child = spawn(process.execPath, [...TSX, join(ROOT, 'server/main.ts')], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: join(dir, 'app.db'), PORT: String(port) },
  });
  cleanups.push(() => child.kill());
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  expect(output).toContain('.env sets ACCES_TOKEN_TTL, which nothing reads: did you mean ACCESS_TOKEN_TTL?');
  expect(output).toContain('.env sets MY_OWN_THING, which nothing reads (see .env.example)');
});

test('a port in use: the server says so and which variable moves it', async () => {
  const port = await occupiedPort();
  const dir = tempDir();
  const result = await server(dir, { DATABASE_URL: join(dir, 'app.db'), PORT: String(port) });
  expectClearFailure(result, new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use .* set PORT`));
});

test('npm start before npm run build says to build first', async () => {
  const dir = tempDir();
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const result = await run(['start', '--silent'], dir, {}, { command: 'npm' });
  expectClearFailure(result, /npm start serves the production build, and there is none: run npm run build first/);
});

test.each([
  ['PORT', 'the API'],
  ['WEB_PORT', 'the SPA \\(Vite\\)'],
])('npm run dev with %s taken says so in one line and starts neither half', { timeout: 60_000 }, async (name, what) => {
  const taken = await occupiedPort();
  const ports = { PORT: String(await freePort()), WEB_PORT: String(await freePort()), [name]: String(taken) };
  // Setup, the first half of `npm run dev`, writes .env where it runs: a copy, not this checkout.
  const project = copyProject();
  const env = { ...ports, DATABASE_URL: join(project, 'app.db'), JWT_SECRET: randomSecret() };
  const result = await run(['run', 'dev', '--silent'], project, env, { command: 'npm' });
  expectClearFailure(
    result,
    new RegExp(
      `npm run dev: port ${taken} \\(${name}, for ${what}\\) is in use: stop the program that has it, or set ${name} in \\.env`,
    ),
  );
  expect(result.output).not.toContain('VITE');
});

test('the API half of npm run dev ends when the server cannot start, so concurrently stops Vite too', async () => {
  const port = await occupiedPort();
  const project = copyProject();
  // tsx watch alone would wait for a code change forever, the SPA proxying to the other program.
  const result = await run([...TSX, 'scripts/dev-api.ts'], project, {
    PORT: String(port),
    DATABASE_URL: join(project, 'app.db'),
    JWT_SECRET: randomSecret(),
  });
  expect(result.code, result.output).toBe(1);
  expect(result.output).toMatch(/Cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
});

/** The files `npm run dev` needs, in a folder of their own, sharing node_modules. */
function copyProject(): string {
  const dir = tempDir();
  for (const path of ['package.json', '.env.example', 'tsconfig.json']) copyFileSync(join(ROOT, path), join(dir, path));
  for (const folder of ['server', 'db', 'scripts', 'web']) {
    spawnSyncOrThrow('cp', ['-r', join(ROOT, folder), join(dir, folder)]);
  }
  spawnSyncOrThrow('ln', ['-s', join(ROOT, 'node_modules'), join(dir, 'node_modules')]);
  return dir;
}

function spawnSyncOrThrow(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
}
