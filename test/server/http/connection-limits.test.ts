// Slow or greedy clients cannot hold the server's connections: headers must arrive within
// HEADERS_TIMEOUT, and one address may hold at most MAX_CONNECTIONS_PER_IP connections.
import { type Socket, connect } from 'node:net';
import { request } from 'node:http';
import { expect, test } from 'vitest';
import { startServersPerTest } from '../../helpers/server.ts';

const start = startServersPerTest();

/** A raw TCP connection from `localAddress` (any 127.x.y.z is loopback on Linux). */
function open(url: string, localAddress = '127.0.0.1') {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ port: Number(new URL(url).port), host: '127.0.0.1', localAddress }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves with what the server sent once it closed the connection. */
function closedByServer(socket: Socket) {
  return new Promise<string>((resolve) => {
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
  });
}

function healthFrom(url: string, localAddress: string) {
  return new Promise<number>((resolve, reject) => {
    const req = request(`${url}/trpc/health`, { localAddress, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a client that sends its headers slower than HEADERS_TIMEOUT is cut off with 408', async () => {
  const server = await start({ vars: { HEADERS_TIMEOUT: '1', REQUEST_TIMEOUT: '5' } });
  const socket = await open(server.url);
  const closed = closedByServer(socket);
  // One byte every 100 ms: the whole request would take about 6 s. Node checks the timeout
  // every 30 s by default, so without a shorter interval this request would get its 200.
  const request = `GET /trpc/health HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(10)}\r\n\r\n`;
  let sent = 0;
  const trickle = setInterval(() => {
    if (!socket.destroyed && sent < request.length) socket.write(request[sent++]!);
  }, 100);
  try {
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(sent).toBeLessThan(request.length);
  } finally {
    clearInterval(trickle);
  }
});

test('connections over MAX_CONNECTIONS_PER_IP from one address are closed; other addresses are served', async () => {
  const server = await start({ vars: { MAX_CONNECTIONS_PER_IP: '3' } });
  const held = await Promise.all([1, 2, 3].map(() => open(server.url)));
  const extra = await open(server.url);
  const extraClosed = closedByServer(extra);
  extra.write('GET /trpc/health HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(await extraClosed).toBe('');

  expect(await healthFrom(server.url, '127.0.0.2')).toBe(200);
  // A closed connection frees its place.
  held[0]!.destroy();
  await expect.poll(() => healthFrom(server.url, '127.0.0.1').catch(() => 0)).toBe(200);
  for (const socket of held) socket.destroy();
});

test('connections over MAX_CONNECTIONS in total are closed', async () => {
  const server = await start({ vars: { MAX_CONNECTIONS: '2' } });
  const held = await Promise.all([open(server.url, '127.0.0.3'), open(server.url, '127.0.0.4')]);
  const extra = await open(server.url, '127.0.0.5');
  const extraClosed = closedByServer(extra);
  extra.write('GET /trpc/health HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(await extraClosed).toBe('');
  for (const socket of held) socket.destroy();
});
