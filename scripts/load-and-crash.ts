// `npm run load [-- --quick] [-- --seconds N]`: sustained mixed traffic (sign-ins,
// protected queries, refreshes) against the built production server, then the same
// traffic again and `kill -9` in the middle of it. After a restart on the same
// database it checks what must survive: integrity, sessions, and revocations made
// before the crash. Last, a flood of sign-ins with a new e-mail and address each, under
// which memory must level off. Loopback only; every phase is bounded in time.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createApp } from '../server/app.ts';
import { createServices } from '../server/context.ts';
import { parseConfig } from '../server/env.ts';
import { createLogger } from '../server/logger.ts';
import {
  MAIL_FROM,
  ORIGIN,
  PASSWORD,
  call,
  randomIp,
  refreshChainRequest,
  requireBuild,
  signIn,
  startProductionServer,
  unreachableSmtpUrl,
} from './lib/production-server.ts';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, seconds: { type: 'string' } },
});
const SECONDS = Number(args.seconds ?? (args.quick ? 2 : 20));
const GROUP = args.quick ? 4 : 20; // sessions per group
const LOGIN_ACCOUNTS = args.quick ? 4 : 40; // spread sign-ins so per-account limits are not what we measure
// Per half of the flood (three keys a sign-in): even a slow machine passes the cap many times.
const FLOOD = args.quick
  ? { seconds: 1, requests: 2_000, maxKeys: 200 }
  : { seconds: 5, requests: 50_000, maxKeys: 1_000 };

type Session = { email: string; access: string; refresh: string };

/**
 * How much the heap (after GC) may grow over the second half of the load: 10 %, plus
 * 4 MB for what a run leaves briefly reachable when it is measured (open sockets, the last
 * responses, the audit rows being written). A run sends tens of thousands of requests: a
 * leak of a few hundred bytes each shows above it.
 */
const HEAP_TOLERANCE = { ratio: 0.1, bytes: 4 * 1024 * 1024 };

// A fixed crowd of client addresses: enough that per-address limits are not what is
// measured, few enough that the rate limiters' memory reaches a steady size.
const CLIENTS = Array.from({ length: Math.max(500, SECONDS * 50) }, randomIp);
let nextClient = 0;
const clientIp = () => CLIENTS[nextClient++ % CLIENTS.length]!;

requireBuild('load');
const dir = mkdtempSync(join(tmpdir(), 'load-'));
const checks: [string, boolean, string][] = [];
try {
  let server = await startProductionServer(dir, 'load.db', { measureHeap: true });
  const make = async (prefix: string, n: number): Promise<Session[]> => {
    const emails = Array.from({ length: n }, (_, i) => `${prefix}-${i}@example.com`);
    await server.addAccounts(emails);
    return Promise.all(emails.map(async (email) => ({ email, ...(await signIn(server.url, email)) })));
  };
  const busy = await make('busy', GROUP); // refreshed under load, and at the crash
  const idle = await make('idle', GROUP); // untouched: must still refresh after the crash
  const revoked = await make('revoked', GROUP); // signed out before the crash: must stay out
  const logins = await make('login', LOGIN_ACCOUNTS);

  // Phase 1: sustained mixed traffic in two halves, with the server's heap after a forced
  // GC before, between and after them, each time idle: the first half brings the caches,
  // the limiters and SQLite's statements to their working size; the second must not grow
  // the heap further. What is still reachable after a full GC is what a leak grows; RSS is
  // not (V8 and the allocator keep freed pages for reuse). Verdict: the end may exceed the
  // warmed-up heap by HEAP_TOLERANCE at most.
  const heap = [await server.heapAfterGc()];
  const firstHalf = await runMixedLoad(server.url, busy, logins, SECONDS / 2);
  heap.push(await server.heapAfterGc());
  const secondHalf = await runMixedLoad(server.url, busy, logins, SECONDS / 2);
  heap.push(await server.heapAfterGc());
  const phase1 = { requests: firstHalf.requests + secondHalf.requests, errors: firstHalf.errors + secondHalf.errors };
  checks.push([
    `${phase1.requests} requests in ${SECONDS} s, no errors`,
    phase1.errors === 0,
    `${phase1.errors} errors`,
  ]);
  const [idleHeap, settled, end] = heap as [number, number, number];
  const allowed = settled * (1 + HEAP_TOLERANCE.ratio) + HEAP_TOLERANCE.bytes;
  if (args.quick) {
    console.log(`memory check not run (--quick): heap after GC ${heap.map(mb).join(' → ')}, too short to judge`);
  } else {
    checks.push([
      `memory levels off: heap after GC ${mb(idleHeap)} before, ${mb(settled)} after half the load, ${mb(end)} after all of it (≤ ${mb(allowed)})`,
      end <= allowed,
      `${((end / settled - 1) * 100).toFixed(0)}% growth after warm-up`,
    ]);
  }

  // Revocations made before the crash.
  for (const session of revoked) await call(server.url, 'auth.logout', {}, { cookie: session.access });

  // Phase 2: the same load, and kill -9 half-way through it.
  const load = runMixedLoad(server.url, busy, logins, SECONDS);
  await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 2));
  server.stop('SIGKILL');
  await server.exited;
  const phase2 = await load;

  const db = new Database(join(dir, 'load.db'), { readonly: true });
  const integrity = db.pragma('integrity_check', { simple: true });
  const orphans = db.pragma('foreign_key_check') as unknown[];
  db.close();
  checks.push([
    `after kill -9 mid-load (${phase2.requests} requests sent): PRAGMA integrity_check`,
    integrity === 'ok',
    String(integrity),
  ]);
  checks.push(['no rows point at missing parents (foreign_key_check)', orphans.length === 0, `${orphans.length} rows`]);

  server = await startProductionServer(dir, 'load.db', { secret: server.secret });
  const idleRefreshes = await Promise.all(idle.map((s) => refreshStatus(server.url, s)));
  checks.push([
    'existing sessions still refresh after the restart',
    idleRefreshes.every((s) => s === 200),
    idleRefreshes.join(' '),
  ]);
  const idleQueries = await Promise.all(idle.map((s) => meStatus(server.url, s)));
  checks.push(['their access tokens still work', idleQueries.every((s) => s === 200), idleQueries.join(' ')]);
  const revokedRefreshes = await Promise.all(revoked.map((s) => refreshStatus(server.url, s)));
  const revokedQueries = await Promise.all(revoked.map((s) => meStatus(server.url, s)));
  checks.push([
    'sessions revoked before the crash stay revoked (refresh and access)',
    [...revokedRefreshes, ...revokedQueries].every((s) => s === 401),
    [...revokedRefreshes, ...revokedQueries].join(' '),
  ]);

  server.stop();
  await server.exited;

  // Phase 3: a flood of sign-ins, each with a new e-mail from a new address, against the
  // server in this process, where the heap can be weighed after a forced GC. A small
  // limiter key cap is passed many times over, and a one-slot hash queue answers most
  // calls with a quick 503 after they asked the limiters. The heap must level off at the
  // cap: what the second half keeps, per sign-in, is compared with what one sign-in's
  // three limiter keys would cost if nothing were evicted (~2 KB).
  const flood = await floodNewAccounts(dir);
  const keptPerSignIn = (flood.heap[2]! - flood.heap[1]!) / flood.requests[1]!;
  checks.push([
    `distinct-key flood: ${flood.requests.join(' + ')} sign-ins, each a new e-mail and address: heap after GC ${flood.heap.map(mb).join(' → ')}, ${flood.keys} limiter keys (cap ${FLOOD.maxKeys})`,
    flood.keys <= FLOOD.maxKeys && (args.quick || keptPerSignIn < 500),
    `${keptPerSignIn.toFixed(0)} bytes kept per sign-in in the second half`,
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const width = Math.max(...checks.map(([name]) => name.length));
for (const [name, ok, detail] of checks)
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(width)}  ${ok ? '' : detail}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(`\n${checks.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

// --- Helpers ---------------------------------------------------------------------

/**
 * Protected queries, refresh rotations and sign-ins at once, for `seconds`. Refreshes
 * follow fresh sessions: a chain whose last response was cut off when a run ended (or
 * the server died) has a successor nobody received.
 */
async function runMixedLoad(url: string, busy: Session[], logins: Session[], seconds: number) {
  const pool = (await Promise.all(busy.map((s) => signIn(url, s.email)))).map((s) => s.refresh);
  const post = { origin: ORIGIN, 'content-type': 'application/json' };
  const runs = await Promise.all([
    autocannon({ url: `${url}/trpc/user.me`, connections: 8, duration: seconds, headers: { cookie: busy[0]!.access } }),
    autocannon({
      url: `${url}/trpc/auth.refresh`,
      connections: Math.max(1, busy.length / 2),
      duration: seconds,
      requests: [refreshChainRequest(pool, clientIp)],
    }),
    autocannon({
      url: `${url}/trpc/auth.login`,
      connections: 2,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const account = logins[Math.floor(Math.random() * logins.length)]!;
            const body = JSON.stringify({ email: account.email, password: PASSWORD });
            return { ...request, headers: { ...post, 'x-forwarded-for': clientIp() }, body };
          },
        },
      ],
    }),
  ]);
  return {
    requests: runs.reduce((sum, r) => sum + r.requests.total, 0),
    errors: runs.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
  };
}

/** Two halves of wrong-password sign-ins, each for a new e-mail from a new address; bounded in count and time. */
async function floodNewAccounts(dir: string) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // After the run's last sockets have closed and their buffers are unreachable: two passes,
  // so objects freed by the first one's finalizers go too.
  const heapAfterGc = async () => {
    await new Promise((resolve) => setTimeout(resolve, 250));
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const config = parseConfig({
    NODE_ENV: 'production',
    APP_ORIGIN: ORIGIN,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    SMTP_URL: await unreachableSmtpUrl(), // sign-ins send no mail
    MAIL_FROM,
    DATABASE_URL: join(dir, 'flood.db'),
    TRUST_PROXY: '1',
    RATE_LIMIT_MAX_KEYS: String(FLOOD.maxKeys),
    HASH_QUEUE_LIMIT: '1',
  });
  const db = await openDatabase(config.databaseUrl);
  await migrateDatabase(db);
  const services = await createServices({ db, config, logger: createLogger('error'), now: () => new Date() });
  const server = createApp(services);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let sent = 0;
  const heap = [await heapAfterGc()];
  const requests: number[] = [];
  for (let half = 0; half < 2; half++) {
    const result = await autocannon({
      url: `${url}/trpc/auth.login`,
      connections: 50,
      duration: FLOOD.seconds,
      maxOverallRequests: FLOOD.requests,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const body = JSON.stringify({ email: `flood-${sent++}@example.com`, password: 'a wrong password' });
            const headers = { origin: ORIGIN, 'content-type': 'application/json', 'x-forwarded-for': randomIp() };
            return { ...request, headers, body };
          },
        },
      ],
    });
    requests.push(result.requests.total);
    heap.push(await heapAfterGc());
  }
  const keys = services.limits.size();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await db.close();
  return { heap, requests, keys };
}

async function refreshStatus(url: string, session: Session) {
  const res = await fetch(`${url}/trpc/auth.refresh`, {
    method: 'POST',
    headers: {
      origin: ORIGIN,
      'content-type': 'application/json',
      cookie: session.refresh,
      'x-forwarded-for': randomIp(),
    },
    body: '{}',
  });
  return res.status;
}

async function meStatus(url: string, session: Session) {
  return (await fetch(`${url}/trpc/user.me`, { headers: { cookie: session.access } })).status;
}

function mb(bytes: number) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
