// Which client a request comes from, for rate limits. Behind a reverse proxy the
// socket address is the proxy's: set TRUST_PROXY to the number of proxies in front.
import type { IncomingMessage } from 'node:http';
import { SocketAddress, isIP } from 'node:net';

/** The one key for every address that does not parse, so junk cannot mint a key per spelling. */
const INVALID_ADDRESS = 'invalid';

// As some proxies write it: '203.0.113.7:50123', '[2001:db8::7]:50123', '[2001:db8::7]'.
const WITH_PORT = /^\[([^\]]+)\](?::\d{1,5})?$|^([^:]+):\d{1,5}$/;

/**
 * The client's address: the socket's, or with `trustedProxies` > 0 the entry that many
 * hops from the right of X-Forwarded-For (entries further left are the client's to forge).
 * Every spelling of an address gives one key; IPv6 addresses are cut to their /64, since
 * one host usually holds the whole prefix.
 *
 * @example
 * getClientIp(req, 1) // behind one proxy: '203.0.113.7', '2001:db8:1:2::/64' or 'invalid'
 */
export function getClientIp(req: IncomingMessage, trustedProxies: number): string {
  let address = req.socket.remoteAddress ?? '';
  if (trustedProxies > 0) {
    const forwarded = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    // An entry that does not parse is not skipped: the one further left is the client's to forge.
    address = forwarded[forwarded.length - trustedProxies] ?? forwarded[0] ?? address;
  }
  return toRateLimitKey(address);
}

function toRateLimitKey(entry: string): string {
  const address = canonicalAddress(entry);
  if (!address) return INVALID_ADDRESS;
  if (isIP(address) === 4) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** One spelling per address (inet_ntop's: lower case, zeros compressed, no zone), or null. */
function canonicalAddress(entry: string): string | null {
  const host = isIP(entry) ? entry : (WITH_PORT.exec(entry)?.slice(1).find(Boolean) ?? '');
  const family = isIP(host);
  if (family === 0) return null;
  const { address } = new SocketAddress({ address: host, family: family === 4 ? 'ipv4' : 'ipv6' });
  // An IPv4 client seen through a dual-stack socket or proxy ('::ffff:203.0.113.7').
  const mapped = address.replace(/^::ffff:/, '');
  return isIP(mapped) === 4 ? mapped : address;
}
