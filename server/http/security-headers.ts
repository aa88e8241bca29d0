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

// Powerful features the app does not use, denied to it and to anything it embeds; an XSS
// bug then cannot reach the camera. WebAuthn stays allowed for this origin (passkeys).
const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'camera=()',
  'display-capture=()',
  'geolocation=()',
  'gyroscope=()',
  'hid=()',
  'magnetometer=()',
  'microphone=()',
  'midi=()',
  'payment=()',
  'screen-wake-lock=()',
  'serial=()',
  'usb=()',
  'xr-spatial-tracking=()',
  'publickey-credentials-create=(self)',
  'publickey-credentials-get=(self)',
].join(', ');

/** @example setSecurityHeaders(res, { isHttps: config.appOrigin.startsWith('https:') }) */
export function setSecurityHeaders(res: ServerResponse, { isHttps }: { isHttps: boolean }) {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  // Other sites may not load our responses as images, scripts or fetches (Spectre-style leaks).
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
  // Only over HTTPS: HSTS on plain HTTP is ignored at best and a trap on localhost.
  if (isHttps) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}
