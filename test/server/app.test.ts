// The HTTP surface of the foundation, over a real server on port 0.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MAX_BATCH_SIZE, MAX_BODY_BYTES } from '../../server/app.ts';
import { startServer } from '../helpers/server.ts';

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
