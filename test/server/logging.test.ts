// With LOG_LEVEL=debug the server says exactly why a token was refused, without the token;
// no credential reaches a log line at any level, and a request's lines carry its id.
import { PassThrough } from 'node:stream';
import { expect, test } from 'vitest';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../../server/auth/cookies.ts';
import { type Logger, createLogger } from '../../server/logger.ts';
import { createClient } from '../helpers/client.ts';
import { createNativeClient } from '../helpers/native-client.ts';
import { enableTotp } from '../helpers/second-factor.ts';
import { createClock, startServer } from '../helpers/server.ts';
import { PASSWORD, createUser } from '../helpers/users.ts';

test('debug logs name the rejection reason (jose code and claim) and never the token', async () => {
  const lines: string[] = [];
  const record = (message: string, details?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(details)}`);
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  const clock = createClock();
  const server = await startServer({ logger, clock, vars: { LOG_LEVEL: 'debug' } });
  try {
    const { client } = await createUser(server);
    const token = client.cookie(ACCESS_COOKIE)!;
    clock.advance(server.config.jwt.accessTokenTtl + 1);
    await client.query('user.me');
    // Change one signature character in the middle (the last ones hold padding bits).
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const tampered = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    client.setCookie(ACCESS_COOKIE, `${header}.${payload}.${tampered}`);
    await client.query('user.me');

    expect(lines).toContainEqual(
      expect.stringMatching(/access token refused .*"code":"expired_token","reason":"ERR_JWT_EXPIRED exp"/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/"code":"invalid_token","reason":"ERR_JWS_SIGNATURE_VERIFICATION_FAILED"/),
    );
    for (const line of lines) expect(line).not.toContain(signature.slice(0, 20));
  } finally {
    await server.close();
  }
});

/** A JSON logger at `debug` whose lines the test reads. */
function captureLogger() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    logger: createLogger('debug', { destination: stream }),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => text,
  };
}

test('credential fields are redacted at any depth and in any case, whatever the caller passes', () => {
  const { logger, lines } = captureLogger();
  const failure = Object.assign(new Error('upstream refused'), {
    config: { headers: { Authorization: 'Bearer eyJ.secret-1' } },
  });
  logger.info('a careless line', {
    cookie: '__Host-access_token=eyJ.secret-2',
    headers: { authorization: 'Bearer eyJ.secret-3', 'Set-Cookie': ['a=secret-4'], Cookie: 'b=secret-5' },
    input: { password: 'hunter2 hunter2', refresh_token: 'secret-6', nested: { accessToken: 'secret-7' } },
    deep: { a: { b: { c: { d: { password: 'secret-8' } } } } },
    users: [{ email: 'a@example.com', passwordHash: 'secret-9' }],
    error: failure,
    ip: '2001:db8::1',
  });
  const [line] = lines();
  expect(line).toMatchObject({
    level: 'info',
    msg: 'a careless line',
    cookie: '[redacted]',
    headers: { authorization: '[redacted]', 'Set-Cookie': '[redacted]', Cookie: '[redacted]' },
    input: { password: '[redacted]', refresh_token: '[redacted]', nested: { accessToken: '[redacted]' } },
    deep: { a: { b: { c: { d: { password: '[redacted]' } } } } },
    users: [{ email: 'a@example.com', passwordHash: '[redacted]' }],
    // An Error keeps what says what went wrong.
    error: { message: 'upstream refused', stack: expect.stringContaining('upstream refused') },
    ip: '2001:db8::1',
  });
  expect(JSON.stringify(line)).not.toMatch(/secret-|hunter2/);
});

test('at debug level, a whole session in the logs holds no password, token, cookie or code, and each request line its id', async () => {
  const capture = captureLogger();
  const clock = createClock();
  const server = await startServer({ logger: capture.logger, clock, vars: { LOG_LEVEL: 'debug' } });
  try {
    const { client, email } = await createUser(server, { clock });
    const secrets: string[] = [PASSWORD, client.cookie(ACCESS_COOKIE)!, client.cookie(REFRESH_COOKIE)!];
    // Wrong passwords, a refresh, an expired token, step-up, a password change, two-step codes.
    const stranger = createClient(server.url, server.config.appOrigin, clock);
    await stranger.mutate('auth.login', { email, password: 'a wrong password, logged nowhere' });
    secrets.push('a wrong password, logged nowhere');
    clock.advance(server.config.jwt.accessTokenTtl + 1);
    const expired = await client.query('user.me');
    await client.mutate('auth.refresh');
    secrets.push(client.cookie(ACCESS_COOKIE)!, client.cookie(REFRESH_COOKIE)!);
    await client.mutate('auth.reauthenticate', { password: PASSWORD });
    const { app, recoveryCodes } = await enableTotp(client, clock.now());
    secrets.push(app.code(clock.now()), ...recoveryCodes);
    await client.mutate('auth.changePassword', { currentPassword: PASSWORD, newPassword: 'a new password for logs' });
    secrets.push('a new password for logs');
    // A native client: tokens in bodies and Authorization headers.
    const native = createNativeClient(server.url);
    const step = await native.login(email, 'a new password for logs');
    const challenge = (step.body.result?.data as unknown as { secondFactor: { challenge: string } }).secondFactor
      .challenge;
    secrets.push(challenge);
    const completed = await native.mutate('auth.completeSignIn', {
      secondFactor: { recoveryCode: recoveryCodes[0] },
      challenge,
    });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect((await native.refresh()).status).toBe(200);
    secrets.push(native.accessToken!, native.refreshToken!);

    const text = capture.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(text, 'a credential in the logs').not.toContain(secret);
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.eyJ/);
    // The refused token's debug line carries the id the response gave the client.
    const requestId = expired.headers.get('x-request-id');
    expect(requestId).toMatch(/^[\da-f-]{36}$/);
    expect(capture.lines()).toContainEqual(
      expect.objectContaining({ msg: 'access token refused', reqId: requestId, code: 'expired_token' }),
    );
  } finally {
    await server.close();
  }
});
