// Which client a request comes from, for rate limits. Behind a reverse proxy the
// socket address is the proxy's: set TRUST_PROXY to the number of proxies in front.
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';

/**
 * The client's address: the socket's, or with `trustedProxies` > 0 the entry that many
 * hops from the right of X-Forwarded-For (entries further left are the client's to forge).
 * IPv6 addresses are cut to their /64, since one host usually holds the whole prefix.
 *
 * @example
 * getClientIp(req, 1) // behind one proxy: '203.0.113.7', or '2001:db8:1:2::/64'
 */
export function getClientIp(req: IncomingMessage, trustedProxies: number): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxies > 0) {
    const forwarded = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    address = forwarded[forwarded.length - trustedProxies] ?? forwarded[0] ?? address;
  }
  return toRateLimitKey(address);
}

function toRateLimitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
