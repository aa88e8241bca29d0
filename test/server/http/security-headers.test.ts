// Every response carries the security headers; HSTS only when the app is served over HTTPS.
import { expect, test } from 'vitest';
import { withServer } from '../../helpers/server.ts';

test('API responses carry a strict CSP, nosniff, no-referrer and DENY framing; no HSTS over http', () =>
  withServer({}, async (server) => {
    const res = await fetch(`${server.url}/trpc/health`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  }));

test('HSTS is sent when APP_ORIGIN is https', () =>
  withServer({ vars: { APP_ORIGIN: 'https://app.example.com' } }, async (server) => {
    const res = await fetch(`${server.url}/trpc/health`);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  }));

test('every response carries CORP same-origin and a Permissions-Policy that denies powerful features but allows passkeys', () =>
  withServer({}, async (server) => {
    for (const path of ['/trpc/health', '/trpc/noSuchProcedure', '/anything']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.headers.get('cross-origin-resource-policy'), path).toBe('same-origin');
      const policy = new Map(
        res.headers
          .get('permissions-policy')!
          .split(',')
          .map((entry) => entry.trim().split('=') as [string, string]),
      );
      for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb', 'serial', 'hid']) {
        expect(policy.get(feature), `${path} ${feature}`).toBe('()');
      }
      expect(policy.get('publickey-credentials-get')).toBe('(self)');
      expect(policy.get('publickey-credentials-create')).toBe('(self)');
    }
  }));
