// Rate limits key on the client address; a forged X-Forwarded-For must not buy a fresh bucket.
import { expect, test } from 'vitest';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { withServer } from '../../helpers/server.ts';

const attempts = RATE_LIMITS.passwordPerIpAndAccount.points + 1;

async function loginStatuses(url: string, origin: string, forwardedFor: (i: number) => string) {
  const statuses: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const res = await fetch(`${url}/trpc/auth.login`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json', 'x-forwarded-for': forwardedFor(i) },
      body: JSON.stringify({ email: 'victim@example.com', password: 'wrong password' }),
    });
    statuses.push(res.status);
  }
  return statuses;
}

test('without TRUST_PROXY, X-Forwarded-For is ignored: forged addresses share the socket’s limit', () =>
  withServer({ vars: { TRUST_PROXY: '0' } }, async (server) => {
    const statuses = await loginStatuses(server.url, server.config.appOrigin, (i) => `203.0.113.${i}`);
    expect(statuses.at(-1)).toBe(429);
  }));

test('behind one proxy, only the entry the proxy appended counts: a forged left part does not help', () =>
  withServer({ vars: { TRUST_PROXY: '1' } }, async (server) => {
    const statuses = await loginStatuses(server.url, server.config.appOrigin, (i) => `198.51.100.${i}, 203.0.113.7`);
    expect(statuses.at(-1)).toBe(429);
  }));

test('behind one proxy, different clients get their own limits', () =>
  withServer({ vars: { TRUST_PROXY: '1' } }, async (server) => {
    const statuses = await loginStatuses(server.url, server.config.appOrigin, (i) => `203.0.113.${i}`);
    expect(statuses.every((s) => s === 401)).toBe(true);
  }));
