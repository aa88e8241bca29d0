// Run by `npm run dev` before it starts anything: the API's PORT and Vite's WEB_PORT must be
// free. One line naming the port and the variable that moves it, instead of Vite's stack
// trace, or an API that fails while the SPA goes on proxying to whatever holds its port.
import { createServer } from 'node:net';
import { ConfigError, loadConfig } from '../server/env.ts';

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`npm run dev: ${error.message}\n`);
    process.exit(1);
  }
})();

/** 'free', 'in use', 'denied', or 'absent' (the machine has no such address: IPv6 switched off). */
const probe = (port: number, host: string) =>
  new Promise<'free' | 'in use' | 'denied' | 'absent'>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' ? 'in use' : error.code === 'EACCES' ? 'denied' : 'absent'),
    );
    server.listen(port, host, () => server.close(() => resolve('free')));
  });

const ports = [
  { name: 'PORT', port: config.port, host: config.host, what: 'the API' },
  // Vite listens on localhost, which may be IPv4 or IPv6: both must be free.
  { name: 'WEB_PORT', port: config.webPort, host: '127.0.0.1', what: 'the SPA (Vite)' },
  { name: 'WEB_PORT', port: config.webPort, host: '::1', what: 'the SPA (Vite)' },
];
for (const { name, port, host, what } of ports) {
  if (port === 0) continue;
  const state = await probe(port, host);
  if (state === 'in use' || state === 'denied') {
    const why =
      state === 'in use' ? 'is in use: stop the program that has it' : 'may not be used by this user (below 1024?)';
    process.stderr.write(`npm run dev: port ${port} (${name}, for ${what}) ${why}, or set ${name} in .env.\n`);
    process.exit(1);
  }
}
