// A native client: signs in with the body transport, calls `user.me` with
// `Authorization: Bearer`, refreshes, calls again, and signs out. Run against a server:
//   echo "$PASSWORD" | npx tsx examples/cli/cli.ts --url http://127.0.0.1:3000 --email you@example.com
// It keeps the tokens in memory only. A real app keeps the refresh token in the platform
// keystore (Keychain, Android Keystore, libsecret), never in a file (decision 011).
import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import { TRPCClientError, createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '../../server/routers/_app.ts';

const USAGE =
  'Usage: tsx examples/cli/cli.ts --url <API origin> --email <address>  (password on standard input; an authenticator code on the next line)';

function fail(message: string): never {
  process.stderr.write(`cli: ${message}\n`);
  process.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({ options: { url: { type: 'string' }, email: { type: 'string' } } });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
})();
if (!values.url || !values.email) fail(USAGE);
if (!URL.canParse(values.url) || !/^https?:$/.test(new URL(values.url).protocol)) {
  fail(`--url must be an http(s) origin such as http://127.0.0.1:3000, not "${values.url}"`);
}
// Secrets come on standard input, never as arguments (shell history, `ps`): the password,
// then, for an account with two-step verification, a code from the authenticator app.
const [password = '', code] = (await text(process.stdin)).split(/\r?\n/);

let accessToken: string | undefined;
const api = createTRPCClient<AppRouter>({
  links: [
    httpLink({
      url: new URL('/trpc', values.url).href,
      // Asks for tokens in response bodies instead of cookies; then proves itself with the access token.
      headers: () => ({
        'x-auth-transport': 'bearer',
        ...(accessToken && { authorization: `Bearer ${accessToken}` }),
      }),
    }),
  ],
});

/** The access token expires after ACCESS_TOKEN_TTL: a native client refreshes on `expired_token`, as the SPA does. */
const expiresAt = (jwt: string) =>
  new Date((JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000);

try {
  const firstStep = await api.auth.login.mutate({ email: values.email, password });
  // An account with two-step verification answers with a challenge instead of a session.
  const signedIn = firstStep.secondFactor
    ? await api.auth.completeSignIn.mutate({
        secondFactor: {
          code: code || fail('this account has two-step verification: send a code from the app after the password'),
        },
        challenge: firstStep.secondFactor.challenge,
      })
    : firstStep;
  if (!signedIn.user || !signedIn.tokens?.refreshToken) fail('the server sent no tokens (is it this template?)');
  accessToken = signedIn.tokens.accessToken;
  let refreshToken = signedIn.tokens.refreshToken;
  console.log(`Signed in as ${signedIn.user.email}; access token valid until ${expiresAt(accessToken).toISOString()}`);

  const me = await api.user.me.query();
  console.log(`user.me: ${JSON.stringify(me)}`);

  // Each refresh returns a new refresh token; the old one is spent (sending it again ends the session).
  const refreshed = await api.auth.refresh.mutate({ refreshToken });
  if (!refreshed.tokens?.refreshToken) fail('the refresh sent no new refresh token');
  accessToken = refreshed.tokens.accessToken;
  refreshToken = refreshed.tokens.refreshToken;
  console.log(`Refreshed; new access token valid until ${expiresAt(accessToken).toISOString()}`);

  console.log(`user.me again: ${JSON.stringify(await api.user.me.query())}`);
  await api.auth.logout.mutate();
  console.log('Signed out');
} catch (error) {
  if (!(error instanceof TRPCClientError)) throw error;
  const data = error.data as
    { authError?: string | null; zodError?: { fieldErrors: Record<string, string[]> } | null } | undefined;
  // An input error's message is zod's JSON: say the first field's problem, on one line.
  const field = Object.entries(data?.zodError?.fieldErrors ?? {})[0];
  const message = field ? `${field[0]}: ${field[1][0]}` : error.message;
  fail(`${message}${data?.authError ? ` (${data.authError})` : ''}`);
}
