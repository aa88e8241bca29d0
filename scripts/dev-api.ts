// `npm run dev`'s API half: the server under `tsx watch`, restarted when its code or a
// migration changes. A code error waits for the fix, as tsx watch does; a start that cannot
// work (a port in use, a refused configuration) ends it, and concurrently stops Vite with
// it, instead of leaving the SPA proxying to nothing, or to whatever owns the port.
import { spawn } from 'node:child_process';

/** The lines server/main.ts prints when it will not start, whatever the code says. */
const FATAL = /^Refusing to start\.|Cannot listen on /m;

const child = spawn(
  process.execPath,
  ['node_modules/tsx/dist/cli.mjs', 'watch', '--clear-screen=false', '--include', 'db/migrations', 'server/main.ts'],
  { stdio: ['inherit', 'pipe', 'pipe'] },
);
const watch = (from: NodeJS.ReadableStream, to: NodeJS.WritableStream) =>
  from.on('data', (chunk: Buffer) => {
    to.write(chunk);
    if (FATAL.test(chunk.toString())) {
      child.kill('SIGTERM');
      process.exitCode = 1;
    }
  });
watch(child.stdout, process.stdout);
watch(child.stderr, process.stderr);
child.on('exit', (code) => process.exit(process.exitCode ?? code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
