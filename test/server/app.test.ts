// The HTTP surface of the foundation, over a real server on port 0.
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MAX_BATCH_SIZE, MAX_BODY_BYTES } from '../../server/app.ts';
import { type Logger, createLogger } from '../../server/logger.ts';
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { sqliteConnection } from '../../db/sqlite.ts';
import { startServer } from '../helpers/server.ts';
import { createUser } from '../helpers/users.ts';

interface ErrorBody {
  error: { message: string; data: Record<string, unknown> & { code: string } };
}
const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

test('answers the health query over HTTP', async () => {
  const res = await fetch(`${server.url}/trpc/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ result: { data: { status: 'ok' } } });
});

test('refuses a body over the limit with 413 before reading it', async () => {
  const res = await fetch(`${server.url}/trpc/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES) }),
  });
  expect(res.status).toBe(413);
  expect((await errorOf(res)).data.code).toBe('PAYLOAD_TOO_LARGE');
});

test('refuses a batch with too many calls with 400', async () => {
  const calls = Array.from({ length: MAX_BATCH_SIZE + 1 }, () => 'health').join(',');
  const res = await fetch(`${server.url}/trpc/${calls}?batch=1`);
  expect(res.status).toBe(400);
  expect((await errorOf(res)).message).toBe('Batch call exceeds maximum size');
});

test('answers a full batch', async () => {
  const calls = Array.from({ length: MAX_BATCH_SIZE }, () => 'health').join(',');
  const res = await fetch(`${server.url}/trpc/${calls}?batch=1`);
  expect(res.status).toBe(200);
  expect(await res.json()).toHaveLength(MAX_BATCH_SIZE);
});

test('errors carry no stack trace', async () => {
  const res = await fetch(`${server.url}/trpc/noSuchProcedure`);
  expect(res.status).toBe(404);
  const error = await errorOf(res);
  expect(error.data.code).toBe('NOT_FOUND');
  expect(error.data).not.toHaveProperty('stack');
  expect(JSON.stringify(error)).not.toMatch(/\.ts:\d+/);
});

test('paths outside /trpc are 404 when no SPA is built', async () => {
  const res = await fetch(`${server.url}/anything`);
  expect(res.status).toBe(404);
});

test('a 1 MB password is refused with 413 before anything is hashed, with or without Content-Length', async () => {
  const body = JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(1024 * 1024) });
  const headers = { origin: server.config.appOrigin, 'content-type': 'application/json' };
  const declared = await fetch(`${server.url}/trpc/auth.login`, { method: 'POST', headers, body });
  expect(declared.status).toBe(413);
  // Streamed (chunked, no Content-Length): tRPC's own limit stops reading.
  const chunks = [body.slice(0, 1000), body.slice(1000)];
  const streamed = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers,
    body: new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    }),
    duplex: 'half',
  } as RequestInit);
  expect(streamed.status).toBe(413);
});

test('a login flood beyond the hash queue gets 503 with Retry-After, not unbounded memory', async () => {
  // A hash of ~30 ms and 12 arrivals: a third certainly comes while the first is hashed, even
  // when the database lookups in front of the hashes spread the arrivals out.
  const busy = await startServer({
    vars: { HASH_CONCURRENCY: '1', HASH_QUEUE_LIMIT: '1', ARGON2_MEMORY_KIB: '32768' },
  });
  try {
    const attempts = Array.from({ length: 12 }, (_, i) =>
      fetch(`${busy.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { origin: busy.config.appOrigin, 'content-type': 'application/json' },
        body: JSON.stringify({ email: `flood-${i}@example.com`, password: 'whatever123' }),
      }),
    );
    const responses = await Promise.all(attempts);
    const statuses = responses.map((r) => r.status);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
    expect(responses.find((r) => r.status === 503)?.headers.get('retry-after')).toBe('1');
  } finally {
    await busy.close();
  }
});

test('an unexpected error is a 500 whose message names no internals', async () => {
  const broken = await startServer();
  await broken.db.close(); // every query now throws inside the procedure
  try {
    const res = await fetch(`${broken.url}/trpc/health`);
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.message).toBe('Internal server error');
    expect(JSON.stringify(error)).not.toMatch(/database|sqlite|postgres|pool|\.ts/i);
  } finally {
    await broken.close({ closeDatabase: false });
  }
});

test('every /trpc response says Cache-Control: no-store, whoever answers it', async () => {
  const json = { origin: server.config.appOrigin, 'content-type': 'application/json' };
  const responses = {
    success: await fetch(`${server.url}/trpc/health`),
    'not signed in (401)': await fetch(`${server.url}/trpc/user.me`),
    'unknown procedure (404)': await fetch(`${server.url}/trpc/noSuchProcedure`),
    'no procedure (404)': await fetch(`${server.url}/trpc`),
    'batch too large (400)': await fetch(`${server.url}/trpc/${Array(MAX_BATCH_SIZE + 1).fill('health')}?batch=1`),
    'body too large (413)': await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: json,
      body: 'x'.repeat(MAX_BODY_BYTES + 1),
    }),
    'not JSON (415)': await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { ...json, 'content-type': 'text/plain' },
      body: '{}',
    }),
    'cross-site (403)': await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { ...json, origin: 'https://evil.example' },
      body: '{}',
    }),
  };
  for (const [situation, res] of Object.entries(responses)) {
    expect(res.headers.get('cache-control'), situation).toBe('no-store');
  }
});

test('an exception while handling a request is a logged 500 with a generic body, and the next request works', async () => {
  const errors: string[] = [];
  const ignore = () => {};
  const logger: Logger = { debug: ignore, info: ignore, warn: ignore, error: (message) => errors.push(message) };
  const app = await startServer({ logger });
  try {
    // A bug outside tRPC: reading the configuration throws, once, in the middle of a request.
    const { appOrigin } = app.config;
    let isBroken = true;
    Object.defineProperty(app.config, 'appOrigin', {
      get() {
        if (!isBroken) return appOrigin;
        isBroken = false;
        throw new Error('config exploded');
      },
    });
    const res = await fetch(`${app.url}/trpc/health`);
    expect(res.status).toBe(500);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const error = await errorOf(res);
    expect(error.message).toBe('Internal server error');
    expect(JSON.stringify(error)).not.toContain('exploded');
    expect(errors).toEqual(['GET /trpc/health failed']);
    expect((await fetch(`${app.url}/trpc/health`)).status).toBe(200);
  } finally {
    await app.close();
  }
});

test('a malformed request gets 400 and its connection is closed; the server keeps serving', async () => {
  const { port } = new URL(server.url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
    );
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(answer).toMatch(/\r\nConnection: close\r\n/i);
  expect((await fetch(`${server.url}/trpc/health`)).status).toBe(200);
});

test('a mutation with no body (what a tRPC client sends for `.mutate()` without an argument) has no input, not a JSON error', async () => {
  const { createTRPCClient, httpLink } = await import('@trpc/client');
  const { ACCESS_COOKIE, REFRESH_COOKIE } = await import('../../server/auth/cookies.ts');
  const { createUser } = await import('../helpers/users.ts');
  const { client: signedIn } = await createUser(server);
  const cookie = [ACCESS_COOKIE, REFRESH_COOKIE].map((name) => `${name}=${signedIn.cookie(name)}`).join('; ');
  const sent: (string | null)[] = [];
  const api = createTRPCClient<import('../../server/routers/_app.ts').AppRouter>({
    links: [
      httpLink({
        url: `${server.url}/trpc`,
        headers: { origin: server.config.appOrigin, cookie },
        fetch: async (url, init) => {
          sent.push(typeof init?.body === 'string' ? init.body : null);
          return fetch(url, init);
        },
      }),
    ],
  });
  // auth.refresh takes an optional input (a native client's refresh token): a browser sends none.
  await expect(api.auth.refresh.mutate()).resolves.toMatchObject({ user: { email: expect.any(String) } });
  expect(sent).toEqual([null]);
  // A required input left out is told so, as a field error.
  const noBody = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { origin: server.config.appOrigin, 'content-type': 'application/json' },
  });
  expect(noBody.status).toBe(400);
  expect((await errorOf(noBody)).message).toMatch(/expected object, received undefined/);
});

test('a failed query is logged with its statement and reason, never its parameters (hashes, addresses)', async () => {
  const logged: string[] = [];
  const ignore = () => {};
  const logger: Logger = {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
  };
  const app = await startServer({ logger });
  try {
    const { client } = await createUser(app);
    // The notes table disappears under the running app (a botched manual migration, say).
    await dropTable(app.db, 'notes');
    const res = await client.mutate('note.create', { title: 'a parameter that must not be logged' });
    expect(res.status).toBe(500);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^note\.create failed .*insert into \W+notes/);
    expect(logged[0]).not.toContain('a parameter that must not be logged');
  } finally {
    await app.close();
  }
});

async function dropTable(db: Db, table: string) {
  if (db.engine === 'sqlite') return void sqliteConnection(db).exec(`DROP TABLE ${table}`);
  // PostgreSQL (and PGlite): the app's own connection, through a statement both parse alike.
  await db.transaction(async () => {
    await (db as unknown as { execute: (query: SQL) => Promise<unknown> }).execute(sql.raw(`DROP TABLE ${table}`));
  });
}

test('in development each request is one log line with its id (no query string), and the API root points to the SPA', async () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const dev = await startServer({
    logger: createLogger('info', { destination: stream }),
    vars: { NODE_ENV: 'development', ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' },
  });
  try {
    const root = await fetch(`${dev.url}/`);
    expect(root.status).toBe(404);
    expect(await root.text()).toContain(`In development the app is at ${dev.config.appOrigin}/`);
    const health = await fetch(`${dev.url}/trpc/health?input=${encodeURIComponent('"looks-secret"')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^GET \/trpc\/health 200 \d+\.\d ms$/),
        reqId: health.headers.get('x-request-id'),
      }),
    );
    expect(text).not.toContain('looks-secret');
  } finally {
    await dev.close();
  }
  // Elsewhere the root is a plain 404, and no request is logged.
  const other = await fetch(`${server.url}/`);
  expect(await other.text()).toBe('Not found\n');
});
