// Limits that keep slow or greedy clients from holding the server's connections: time
// to send headers and a whole request, idle keep-alive, and connections per address.
// The values come from config.http (HEADERS_TIMEOUT, REQUEST_TIMEOUT, ...).
import type { Server, ServerOptions } from 'node:http';
import type { Config } from '../env.ts';

/** Options for `createServer`: Node's defaults (60 s for headers, 5 min per request) are too generous. */
export function timeoutOptions(http: Config['http']): ServerOptions {
  return {
    // server/env.ts refuses HEADERS_TIMEOUT > REQUEST_TIMEOUT, which Node would refuse too.
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // Node checks both timeouts on this interval (default 30 s), so a 10 s limit could let a
    // slow client hold its connection for 40 s.
    connectionsCheckingInterval: Math.min(1000, http.headersTimeoutMs),
  };
}

/**
 * Caps open connections, in total and per client address: over a cap, a new connection is
 * closed at once. Behind a reverse proxy every connection comes from the proxy's address
 * (README, "Deployment and tuning").
 *
 * @example limitConnections(createServer(timeoutOptions(config.http), handler), config.http)
 */
export function limitConnections(server: Server, http: Config['http']) {
  server.maxConnections = http.maxConnections;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > http.maxConnectionsPerIp) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
