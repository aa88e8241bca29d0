// With LOG_LEVEL=debug the server says exactly why a token was refused, without the token.
import { expect, test } from 'vitest';
import { ACCESS_COOKIE } from '../../server/auth/cookies.ts';
import type { Logger } from '../../server/logger.ts';
import { createClock, startServer } from '../helpers/server.ts';
import { createUser } from '../helpers/users.ts';

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
