// The built SPA as the server ships it (test/global-setup.ts builds dist/): files and their
// caching, the client-side-route fallback, and requests meant to end the process (hostile
// Range, conditional, method and path values), in-process and against `node dist/server/main.js`.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, inject, test } from 'vitest';
import { startProductionServer } from '../../../scripts/lib/production-server.ts';
import { createApp } from '../../../server/app.ts';
import { createServices } from '../../../server/context.ts';
import { type Logger, createLogger } from '../../../server/logger.ts';
import { testConfig } from '../../helpers/config.ts';
import { openTestDatabase } from '../../helpers/database.ts';
import { ROOT } from '../../helpers/server.ts';

// test/global-setup.ts built dist/; if that failed, so does this file, with the build's output.
const buildError = inject('buildError');
if (buildError) throw new Error(buildError);

const BUILT = join(ROOT, 'dist/public');
const ASSET = `/assets/${readdirSync(join(BUILT, 'assets')).find((name) => name.endsWith('.js'))}`;
const INDEX_HTML = readFileSync(join(BUILT, 'index.html'), 'utf8');
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A copy of the build: another test run's rebuild cannot change it, and a test may delete from it. */
function copyOfBuild() {
  const dir = mkdtempSync(join(tmpdir(), 'public-'));
  cpSync(BUILT, dir, { recursive: true });
  return dir;
}

// For the tests that only read it.
const SHARED_COPY = copyOfBuild();

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The app in-process on a fresh database of this run's engine, serving `publicDir`. */
async function serve(publicDir = copyOfBuild(), logger: Logger = createLogger('error')) {
  const config = testConfig();
  const db = await openTestDatabase();
  const server = createApp(await createServices({ db, config, logger, now: () => new Date() }), { publicDir });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, publicDir };
}

interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
}

/** A request exactly as written (fetch would normalize the path and refuse some methods). */
function raw(url: string, { method = 'GET', path, headers = {} }: RawRequest) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function expectAlive(url: string) {
  expect((await fetch(`${url}/trpc/health`)).status).toBe(200);
}

// Sent to `/`, to a client-side route and to a real asset; a browser's Accept on each.
const TARGETS = ['/', '/sessions', ASSET];
const HOSTILE_HEADERS: [string, Record<string, string>, number][] = [
  ['Range: bytes=100-50 (start after end)', { range: 'bytes=100-50' }, 416],
  ['Range: bytes=0-18446744073709551615 (end beyond 2^53)', { range: 'bytes=0-18446744073709551615' }, 206],
  ['Range: bytes=-0 (empty suffix)', { range: 'bytes=-0' }, 416],
  ['Range: bytes=999999999- (start beyond the file)', { range: 'bytes=999999999-' }, 416],
  ['Range: 200 overlapping ranges', { range: `bytes=${Array(200).fill('0-1').join(',')}` }, 206],
  ['Range: bytes=abc', { range: 'bytes=abc' }, 200],
  ['Range: items=0-1 (unknown unit)', { range: 'items=0-1' }, 200],
  ['If-Range: garbage', { range: 'bytes=0-1', 'if-range': 'garbage' }, 200],
  ['If-Range: a date before the build', { range: 'bytes=0-1', 'if-range': 'Mon, 01 Jan 1990 00:00:00 GMT' }, 200],
  ['If-Range: another etag', { range: 'bytes=0-1', 'if-range': '"not-this-one"' }, 200],
  ['If-None-Match: "x", *', { 'if-none-match': '"x", *' }, 200],
  ['If-None-Match: *', { 'if-none-match': '*' }, 304],
  ['If-None-Match: 10 KB', { 'if-none-match': `"${'x'.repeat(10 * 1024)}"` }, 200],
  ['If-Modified-Since: garbage', { 'if-modified-since': 'garbage' }, 200],
  ['If-Modified-Since: far future', { 'if-modified-since': 'Fri, 31 Dec 9999 23:59:59 GMT' }, 304],
  ['If-Modified-Since: year 0', { 'if-modified-since': 'Sat, 01 Jan 0000 00:00:00 GMT' }, 200],
];
const HOSTILE_METHODS: [string, number][] = [
  ['POST', 405],
  ['PUT', 405],
  ['DELETE', 405],
  ['OPTIONS', 405],
  ['TRACE', 405],
  ['PATCH', 405],
  // Node's parser knows the standard methods only: anything else is a 400 before our code runs.
  ['X'.repeat(1024), 400],
];
const HOSTILE_PATHS: [string, number][] = [
  ['/..%2f..%2fetc/passwd', 403],
  ['/%2e%2e/%2e%2e/etc/passwd', 403],
  ['/%00', 400],
  ['/assets/%ff', 400],
  ['//x', 200], // an unknown client-side route: index.html
  ['/assets/../index.html', 200],
  ['http://evil.example/assets/x.js', 200], // absolute form: looked up under the root, so index.html
  ['*', 200],
  [`/${'a'.repeat(8 * 1024)}`, 200], // too long a name for the filesystem: not found, so index.html
];
const ALL_HOSTILE: (RawRequest & { name: string; expected: number })[] = [
  ...TARGETS.flatMap((path) =>
    HOSTILE_HEADERS.map(([name, headers, expected]) => ({
      name: `${path} with ${name}`,
      path,
      headers: { accept: 'text/html', ...headers },
      expected,
    })),
  ),
  ...TARGETS.flatMap((path) =>
    HOSTILE_METHODS.map(([method, expected]) => ({ name: `${method.slice(0, 20)} ${path}`, path, method, expected })),
  ),
  ...HOSTILE_PATHS.map(([path, expected]) => ({
    name: `path ${path.slice(0, 40)}`,
    path,
    headers: { accept: 'text/html' },
    expected,
  })),
];

test('serves index.html at / and at client-side routes, revalidated on every load', async () => {
  const { url } = await serve();
  for (const path of ['/', '/sessions', '/index.html']) {
    const res = await raw(url, { path, headers: { accept: 'text/html' } });
    expect(res.status, path).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe(INDEX_HTML);
  }
});

test('serves hashed assets cached for a year as immutable, with validators and ranges', async () => {
  const { url } = await serve();
  const res = await raw(url, { path: ASSET });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(res.headers['cache-control']).toBe(IMMUTABLE);
  expect(res.headers.etag).toBeTruthy();
  expect(res.headers['content-security-policy']).toContain("script-src 'self'");

  const part = await raw(url, { path: ASSET, headers: { range: 'bytes=0-9' } });
  expect(part.status).toBe(206);
  expect(part.body).toBe(res.body.slice(0, 10));
  const again = await raw(url, { path: ASSET, headers: { 'if-none-match': res.headers.etag! } });
  expect(again.status).toBe(304);
});

test('a missing asset is a 404, never index.html; so is a missing page for a client that does not want HTML', async () => {
  const { url } = await serve();
  const asset = await raw(url, { path: '/assets/index-missing.js', headers: { accept: 'text/html' } });
  expect(asset.status).toBe(404);
  expect(asset.body).not.toContain('<html');
  expect((await raw(url, { path: '/favicon.ico', headers: { accept: 'image/*' } })).status).toBe(404);
});

test('lists no directory and serves no dotfile', async () => {
  const { url, publicDir } = await serve();
  writeFileSync(join(publicDir, '.env'), 'JWT_SECRET=do-not-serve\n');
  for (const path of ['/assets/', '/assets', '/.env', '/assets/.env']) {
    const res = await raw(url, { path });
    expect(res.status, path).toBe(404);
    expect(res.body).not.toContain('do-not-serve');
    expect(res.body).not.toContain('index-');
  }
});

test('HEAD answers the headers of GET without a body', async () => {
  const { url } = await serve();
  const res = await raw(url, { method: 'HEAD', path: ASSET });
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBe(IMMUTABLE);
  expect(res.body).toBe('');
});

test('methods other than GET and HEAD get 405 with Allow: GET, HEAD', async () => {
  const { url } = await serve();
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const res = await raw(url, { method, path: '/sessions', headers: { accept: 'text/html' } });
    expect(res.status, method).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  }
});

test.each(ALL_HOSTILE)(
  'a hostile request is answered and the server keeps serving: $name',
  async ({ expected, ...hostile }) => {
    const { url } = await serve(SHARED_COPY);
    const res = await raw(url, hostile);
    expect(res.status).toBe(expected);
    if (expected === 405) expect(res.headers.allow).toBe('GET, HEAD');
    if (expected === 416) expect(res.headers['content-range']).toMatch(/^bytes \*\/\d+$/);
    await expectAlive(url);
  },
);

test('the built production server (node dist/server/main.js) survives every hostile request', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'static-'));
  const server = await startProductionServer(dir, 'app.db');
  try {
    for (const hostile of ALL_HOSTILE) {
      const res = await raw(server.url, hostile).catch((error: Error) => ({ status: error.message }));
      expect(res.status, hostile.name).toBe(hostile.expected);
      expect(server.child.exitCode, hostile.name).toBeNull();
      await expectAlive(server.url);
    }
  } finally {
    server.stop();
    await server.exited;
  }
});

test('a file deleted after boot (a rebuild under a running server) is a 404, and the server keeps serving', async () => {
  const { url, publicDir } = await serve();
  expect((await raw(url, { path: ASSET })).status).toBe(200);
  rmSync(join(publicDir, ASSET));
  expect((await raw(url, { path: ASSET, headers: { range: 'bytes=0-9' } })).status).toBe(404);
  expect((await raw(url, { path: ASSET })).status).toBe(404);
  await expectAlive(url);
});

test('a file the filesystem cannot read is a logged 500 with a generic body, and the next request works', async () => {
  const lines: string[] = [];
  const record = (message: string) => lines.push(message);
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  const publicDir = copyOfBuild();
  symlinkSync('loop', join(publicDir, 'loop')); // a symbolic link to itself: ELOOP
  const { url } = await serve(publicDir, logger);

  const res = await raw(url, { path: '/loop' });
  expect(res.status).toBe(500);
  expect(res.body).toBe('Internal server error\n');
  expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(lines).toContainEqual(expect.stringMatching(/^GET \/loop failed/));
  expect((await raw(url, { path: '/' })).status).toBe(200);
  await expectAlive(url);
});
