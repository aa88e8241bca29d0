// Rate limits key on the client address; a forged X-Forwarded-For must not buy a fresh bucket,
// and neither may another spelling of the same address.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { RATE_LIMITS } from '../../../server/auth/rate-limits.ts';
import { getClientIp } from '../../../server/http/client-ip.ts';
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

test('behind one proxy, spellings of one address (a port, IPv4-mapped forms) share one limit', () =>
  withServer({ vars: { TRUST_PROXY: '1' } }, async (server) => {
    const spellings = ['203.0.113.7:50123', '::FFFF:203.0.113.7', '0:0:0:0:0:ffff:203.0.113.7', '::ffff:cb00:7107'];
    const statuses = await loginStatuses(server.url, server.config.appOrigin, (i) => spellings[i % spellings.length]!);
    expect(statuses.at(-1)).toBe(429);
  }));

test('behind one proxy, entries that are not addresses share one limit instead of one each', () =>
  withServer({ vars: { TRUST_PROXY: '1' } }, async (server) => {
    const statuses = await loginStatuses(server.url, server.config.appOrigin, (i) => `garbage-${i}`);
    expect(statuses.at(-1)).toBe(429);
  }));

/** Just what getClientIp reads from a request. */
const request = (remoteAddress: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, headers: { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

test.each([
  ['an IPv4 address', '203.0.113.7', '203.0.113.7'],
  ['an IPv4-mapped address', '::ffff:203.0.113.7', '203.0.113.7'],
  ['an IPv6 address, cut to its /64', '2001:db8:1:2::7', '2001:db8:1:2::/64'],
])('without a proxy, %s (%s) is keyed %s', (_, remoteAddress, key) => {
  expect(getClientIp(request(remoteAddress), 0)).toBe(key);
});

test.each([
  ['IPv4 with a port', '203.0.113.7:50123', '203.0.113.7'],
  ['IPv6 in brackets with a port', '[2001:db8::7]:50123', '2001:db8:0:0::/64'],
  ['IPv6 in brackets', '[2001:db8::7]', '2001:db8:0:0::/64'],
  ['IPv4-mapped, upper case', '::FFFF:203.0.113.7', '203.0.113.7'],
  ['IPv4-mapped, zeros written out', '0:0:0:0:0:ffff:203.0.113.7', '203.0.113.7'],
  ['IPv4-mapped, in hexadecimal', '::ffff:cb00:7107', '203.0.113.7'],
  ['IPv4-mapped, in brackets with a port', '[::ffff:203.0.113.7]:443', '203.0.113.7'],
  ['IPv6 with leading zeros and upper case', '2001:0DB8:0001:0002:0:0:0:7', '2001:db8:1:2::/64'],
  ['IPv6 with a zone', 'fe80::1%eth0', 'fe80:0:0:0::/64'],
  ['a word', 'unknown', 'invalid'],
  ['an obfuscated identifier (RFC 7239)', '_hidden', 'invalid'],
  ['an IPv4 address out of range', '203.0.113.256', 'invalid'],
  ['IPv4 with a port that is not a number', '203.0.113.7:http', 'invalid'],
  ['two ports', '203.0.113.7:1:2', 'invalid'],
  ['an unclosed bracket', '[2001:db8::7:50123', 'invalid'],
])('behind one proxy, an X-Forwarded-For entry with %s (%s) is keyed %s', (_, entry, key) => {
  expect(getClientIp(request('10.0.0.1', `198.51.100.1, ${entry}`), 1)).toBe(key);
});

test('whatever X-Forwarded-For holds, the key is an IPv4 address, an IPv6 /64 or "invalid", never the raw text', () => {
  const ipLike = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.[]%'), maxLength: 45 });
  const entry = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), ipLike, fc.string());
  fc.assert(
    fc.property(entry, (value) => {
      const key = getClientIp(request('10.0.0.1', value), 1);
      const isKey = isIP(key) === 4 || key === 'invalid' || (key.endsWith('::/64') && isIP(key.slice(0, -3)) === 6);
      expect(isKey, `${JSON.stringify(value)} → ${key}`).toBe(true);
    }),
  );
});
