// The example native client (examples/cli/cli.ts), run as a user would: a real process
// against a real server, the password on standard input. It signs in with the body
// transport, calls user.me, refreshes, calls again and signs out; failures are one line.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { enableTotp } from '../helpers/second-factor.ts';
import { ROOT, spawnScript, startServer } from '../helpers/server.ts';
import { PASSWORD, createUser } from '../helpers/users.ts';

const CLI = 'examples/cli/cli.ts';
const USAGE =
  'Usage: tsx examples/cli/cli.ts --url <API origin> --email <address>  (password on standard input; an authenticator code on the next line)';

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Runs the CLI with `args`, `stdin` as its whole standard input; resolves when it exits. */
async function runCli(args: string[], stdin = '') {
  const run = spawnScript(CLI, ROOT, {}, args);
  run.child.stdin!.end(stdin);
  const exitCode = await run.exitCode;
  return { exitCode, output: run.output() };
}

test('signs in, calls user.me, refreshes, calls again and signs out, leaving its session ended', async () => {
  const { client: browser, user, email } = await createUser(server);
  const { exitCode, output } = await runCli(['--url', server.url, '--email', email], `${PASSWORD}\n`);
  expect(output).toMatch(
    new RegExp(
      [
        `^Signed in as ${email}; access token valid until \\S+Z`,
        `user\\.me: \\{.*"email":"${email}".*\\}`,
        'Refreshed; new access token valid until \\S+Z',
        `user\\.me again: \\{.*"email":"${email}".*\\}`,
        'Signed out\n$',
      ].join('\n'),
    ),
  );
  expect(exitCode).toBe(0);
  expect(output, 'tokens are never printed').not.toContain('eyJ');

  // Two sessions: the browser's, still live, and the CLI's, ended by its sign-out.
  const { sessions } = server.db.tables;
  const rows = await server.db.select().from(sessions).where(eq(sessions.userId, user.id));
  expect(rows).toHaveLength(2);
  const cli = rows.find((s) => s.userAgent !== 'test-client');
  expect(cli).toMatchObject({ revokedReason: 'logout' });
  expect(cli?.revokedAt).toBeInstanceOf(Date);
  const listed = await browser.query<{ id: string; current: boolean }[]>('session.list');
  expect(listed.body.result?.data.map((s) => [s.id, s.current])).toEqual([[rows.find((s) => s !== cli)!.id, true]]);
  const [ended] = (await server.services.auditLog.list({ limit: 1, userId: user.id, type: 'session_revoked' })).events;
  expect(ended).toMatchObject({ sessionId: cli?.id, detail: 'logout' });
});

test('an account with two-step verification: the code on the line after the password signs in; none, one line', async () => {
  const { client, email } = await createUser(server);
  const { app } = await enableTotp(client, new Date());
  const without = await runCli(['--url', server.url, '--email', email], `${PASSWORD}\n`);
  expect(without.exitCode).toBe(1);
  expect(without.output).toBe(
    'cli: this account has two-step verification: send a code from the app after the password\n',
  );
  // The enrolment used this step's code: the app's next one is inside the window.
  const signedIn = await runCli(['--url', server.url, '--email', email], `${PASSWORD}\n${app.code(new Date(), 1)}\n`);
  expect(signedIn.output).toMatch(new RegExp(`^Signed in as ${email};`));
  expect(signedIn.exitCode).toBe(0);
});

test('a wrong password exits 1 with one line and no stack trace', async () => {
  const { email } = await createUser(server);
  const { exitCode, output } = await runCli(['--url', server.url, '--email', email], 'not the password\n');
  expect(exitCode).toBe(1);
  expect(output).toBe('cli: Invalid e-mail or password\n');
});

test('an unreachable server exits 1 with one line', async () => {
  const { exitCode, output } = await runCli(['--url', 'http://127.0.0.1:1', '--email', 'a@example.com'], 'x\n');
  expect(exitCode).toBe(1);
  expect(output).toMatch(/^cli: [^\n]+\n$/);
});

test.each([
  ['--email is missing', ['--url', 'http://127.0.0.1:1']],
  ['--url is missing', ['--email', 'someone@example.com']],
])('%s: exits 1 with the usage line', async (_, args) => {
  const { exitCode, output } = await runCli(args);
  expect(exitCode).toBe(1);
  expect(output).toBe(`cli: ${USAGE}\n`);
});

test('an unknown option exits 1 with the problem and the usage line', async () => {
  const { exitCode, output } = await runCli(['--url', server.url, '--email', 'a@example.com', '--verbose']);
  expect(exitCode).toBe(1);
  expect(output).toMatch(new RegExp(`^cli: .*--verbose.*\n${USAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
});

test.each([
  [
    'a URL that is not one',
    ['--url', 'not-a-url', '--email', 'a@example.com'],
    /^cli: --url must be an http\(s\) origin/,
  ],
  ['an e-mail that is not one', ['--email', 'not-an-email'], /^cli: email: Enter a valid e-mail address\n$/],
])('%s exits 1 with one line', async (_, args, message) => {
  const withUrl = args.includes('--url') ? args : ['--url', server.url, ...args];
  const { exitCode, output } = await runCli(withUrl, 'a password\n');
  expect(exitCode).toBe(1);
  expect(output).toMatch(message);
  expect(output.trim().split('\n')).toHaveLength(1);
});
