// Shared by the benchmark and the load-and-crash script: the built production server
// on a temporary database, its accounts, and a few plain HTTP calls against it (loopback only).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import { openDatabase } from '../../db/client.ts';
import { insertVerifiedUser } from '../../server/auth/accounts.ts';
import { createPasswordHasher } from '../../server/auth/passwords.ts';
import { type Algorithm, generateKeyPair } from '../../server/auth/signing-keys.ts';
import { parseConfig } from '../../server/env.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ENTRY = join(ROOT, 'dist/server/main.js');
export const ORIGIN = 'http://127.0.0.1';
export const PASSWORD = 'a benchmark password';
export const MAIL_FROM = 'Starter benchmark <no-reply@example.com>';

/** A documentation-range IPv6 address per simulated client (the server trusts one proxy). */
export const randomIp = () => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`;

export function requireBuild(script: string) {
  if (!existsSync(ENTRY)) {
    process.stderr.write(`${script}: dist/server/main.js is missing; run \`npm run build\` first.\n`);
    process.exit(1);
  }
}

/**
 * An SMTP URL on a loopback port nobody listens on (free a moment ago). Production needs
 * one; mail waits in the outbox and no request waits for it, so a run that reads no mail
 * loses nothing.
 */
export function unreachableSmtpUrl(): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(`smtp://127.0.0.1:${port}`));
    });
  });
}

/**
 * What `measureHeap` loads into the server: on SIGUSR2 it collects all garbage and prints
 * the heap left, the measure of a leak (RSS also holds what the allocator keeps for reuse).
 * A measuring tool of these scripts, never part of the app.
 */
const HEAP_PROBE = [
  '--expose-gc',
  '--import',
  'data:text/javascript,process.on("SIGUSR2",()=>{globalThis.gc();process.stdout.write("heap-after-gc "+process.memoryUsage().heapUsed+"\\n")})',
];

/**
 * Starts `node dist/server/main.js` with a database in `dir`; resolves once it has
 * answered its first request. `secret` lets a restart keep accepting earlier tokens;
 * `smtpUrl` is where its mail goes (by default nowhere: see unreachableSmtpUrl).
 */
export async function startProductionServer(
  dir: string,
  database: string,
  {
    secret = randomBytes(32).toString('base64url'),
    encryptionKey = randomBytes(32).toString('base64url'),
    smtpUrl,
    alg = 'HS256',
    measureHeap = false,
  }: { secret?: string; encryptionKey?: string; smtpUrl?: string; alg?: Algorithm; measureHeap?: boolean } = {},
) {
  const env = {
    NODE_ENV: 'production',
    APP_ORIGIN: ORIGIN,
    JWT_ALG: alg,
    ...(alg === 'HS256' ? { JWT_SECRET: secret } : { JWT_PRIVATE_KEY: generateKeyPair(alg).privateKey }),
    ENCRYPTION_KEY: encryptionKey,
    // A file name in `dir` (SQLite), or a postgres:// URL.
    DATABASE_URL: database.includes('://') ? database : join(dir, database),
    SMTP_URL: smtpUrl ?? (await unreachableSmtpUrl()),
    MAIL_FROM,
    HOST: '127.0.0.1',
    PORT: '0',
    // Simulated clients each send their own X-Forwarded-For, as real users behind a proxy would.
    TRUST_PROXY: '1',
    LOG_LEVEL: 'info', // the "Listening on" line says where it is
  };
  const started = performance.now();
  const child = spawn(process.execPath, [...(measureHeap ? HEAP_PROBE : []), ENTRY], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  /**
   * Verified accounts with PASSWORD, written to this server's database as `npm run
   * user:create` would (sign-up goes through mail, which these scripts do not read). One
   * argon2id hash at the server's own parameters serves them all: signing in costs the same.
   */
  const addAccounts = async (emails: string[]) => {
    const passwordHash = await createPasswordHasher(parseConfig(env).passwords).hash(PASSWORD);
    const db = await openDatabase(env.DATABASE_URL);
    try {
      const now = new Date();
      for (const email of emails) {
        if (!(await insertVerifiedUser(db, { email, passwordHash }, now))) {
          throw new Error(`${email} has an account already`);
        }
      }
    } finally {
      await db.close();
    }
  };
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    child.kill(signal);
    // A graceful stop gets 5 s; this script must never leave a server behind.
    setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5_000).unref();
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('server did not start within 10 s')), 10_000);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk;
        const match = /Listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timeout);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    // Started means answering, not just listening.
    while ((await fetch(`${url}/trpc/health`)).status !== 200);
    const exited = new Promise<void>((resolve) =>
      child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    /** The server's heap after a full garbage collection, in bytes (needs `measureHeap`). */
    const heapAfterGc = () =>
      new Promise<number>((resolve, reject) => {
        if (!measureHeap) return reject(new Error('start the server with measureHeap: true'));
        let buffered = '';
        const done = (error?: Error, bytes?: number) => {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve(bytes!);
        };
        // Whole lines only: a number split across two chunks must not be read short.
        const onData = (chunk: Buffer) => {
          buffered += chunk.toString();
          const bytes = /^heap-after-gc (\d+)\n/m.exec(buffered)?.[1];
          if (bytes !== undefined) done(undefined, Number(bytes));
        };
        const onExit = () => done(new Error('the server exited before it reported its heap'));
        const timer = setTimeout(() => done(new Error('the server did not report its heap within 10 s')), 10_000);
        child.stdout.on('data', onData);
        child.once('exit', onExit);
        child.kill('SIGUSR2');
      });
    return { url, child, stop, exited, secret, addAccounts, heapAfterGc, startupMs: performance.now() - started };
  } catch (error) {
    stop();
    throw error;
  }
}

/** A mutation, from a fresh client address. Throws on anything but a 2xx. */
export async function call(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-forwarded-for': randomIp(), ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

export const cookieNamed = (setCookies: string[], name: string) =>
  setCookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0] ?? '';

/** Signs in and returns the two cookies, ready for a Cookie header. */
export async function signIn(url: string, email: string) {
  const res = await call(url, 'auth.login', { email, password: PASSWORD });
  const setCookies = res.headers.getSetCookie();
  return {
    access: cookieNamed(setCookies, '__Host-access_token'),
    refresh: cookieNamed(setCookies, '__Secure-refresh_token'),
  };
}

/**
 * An autocannon request that rotates refresh tokens for real: each request takes a live
 * token from `pool` and its response puts the successor back. (A chain whose response is
 * cut off when a run ends is lost: keep more tokens than connections.)
 */
export function refreshChainRequest(pool: string[], clientIp: () => string = randomIp): autocannon.Request {
  return {
    method: 'POST' as const,
    setupRequest: (request) => ({
      ...request,
      headers: {
        origin: ORIGIN,
        'content-type': 'application/json',
        cookie: pool.shift() ?? '',
        'x-forwarded-for': clientIp(),
      },
      body: '{}',
    }),
    onResponse: (_status, _body, _context, headers) => {
      const next = cookieNamed([headers?.['set-cookie'] ?? []].flat(), '__Secure-refresh_token');
      if (next) pool.push(next);
    },
  };
}
