// `npm run bench`: starts the built production server on a temporary database and
// measures what auth costs, on loopback only, with every loop bounded in time.
// Figures from one run are compared with each other (interleaved rounds), never
// with a fixed number: shared machines are noisy.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = join(ROOT, 'dist/server/main.js');
const ORIGIN = 'http://127.0.0.1';
const ROUNDS = 5;
const SECONDS_PER_RUN = 2;
const CONNECTIONS = 10;
const LOGINS = 15;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function startServer(dir: string) {
  const child = spawn(process.execPath, [ENTRY], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      APP_ORIGIN: ORIGIN,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      DATABASE_URL: join(dir, 'bench.db'),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info', // the "Listening on" line is how we know it is up
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise<string>((resolve, reject) => {
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
  const stop = () => child.kill('SIGTERM');
  return { url: await url.catch((error: unknown) => { stop(); throw error; }), stop };
}

async function call(url: string, path: string, body: unknown, cookie = '') {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', cookie },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

async function requestsPerSecond(url: string, headers: Record<string, string> = {}) {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS_PER_RUN });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  }
  return result.requests.average;
}

if (!existsSync(ENTRY)) {
  process.stderr.write('bench: dist/server/main.js is missing; run `npm run build` first.\n');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-'));
const server = await startServer(dir);
try {
  const email = 'bench@example.com';
  const password = 'a benchmark password';
  const registered = await call(server.url, 'auth.register', { email, password });
  const accessCookie = registered.headers.getSetCookie().find((c) => c.startsWith('__Host-access_token='))!;
  const cookie = accessCookie.split(';')[0]!;

  // Interleaved rounds, alternating which goes first, so drift hits both alike.
  const publicRates: number[] = [];
  const protectedRates: number[] = [];
  const ratios: number[] = [];
  const measure = {
    public: () => requestsPerSecond(`${server.url}/trpc/health`),
    protected: () => requestsPerSecond(`${server.url}/trpc/user.me`, { cookie }),
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['public', 'protected'] as const) : (['protected', 'public'] as const);
    const rate = { public: 0, protected: 0 };
    for (const name of order) rate[name] = await measure[name]();
    publicRates.push(rate.public);
    protectedRates.push(rate.protected);
    ratios.push(rate.protected / rate.public);
  }

  const loginMs: number[] = [];
  for (let i = 0; i < LOGINS; i++) {
    const started = performance.now();
    await call(server.url, 'auth.login', { email, password });
    loginMs.push(performance.now() - started);
  }

  const rows: [string, string][] = [
    [`public query (health), req/s, ${CONNECTIONS} connections`, median(publicRates).toFixed(0)],
    [`protected query (user.me), req/s, ${CONNECTIONS} connections`, median(protectedRates).toFixed(0)],
    [`protected / public (median of ${ROUNDS} interleaved rounds)`, median(ratios).toFixed(2)],
    ['login p50, ms (argon2id m=19456 KiB, t=2, p=1)', median(loginMs).toFixed(1)],
  ];
  console.log(`Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}\n`);
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`| ${'figure'.padEnd(width)} | value |`);
  console.log(`| ${'-'.repeat(width)} | ----- |`);
  for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${value} |`);
  console.log(`\nper round, req/s: public ${publicRates.map((r) => r.toFixed(0)).join(' ')}; protected ${protectedRates.map((r) => r.toFixed(0)).join(' ')}`);
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
