// Headers every response carries. The SPA is built without inline script or style,
// so the Content-Security-Policy can be strict; loosen it here, deliberately, if you
// add a third-party script or font.
import type { ServerResponse } from 'node:http';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** @example setSecurityHeaders(res, { isHttps: config.appOrigin.startsWith('https:') }) */
export function setSecurityHeaders(res: ServerResponse, { isHttps }: { isHttps: boolean }) {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  // Only over HTTPS: HSTS on plain HTTP is ignored at best and a trap on localhost.
  if (isHttps) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}
