// Cookies travel with every request a browser makes, including ones a hostile page
// triggers. Anything but GET must therefore come from our own origin, as JSON.
import type { IncomingMessage } from 'node:http';
import type { Transport } from './transport.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Returns why a state-changing request must be refused, or null to let it through.
 * Runs before tRPC. `multipart/form-data`, `text/plain` and urlencoded bodies are what a
 * plain cross-site HTML form can send, and tRPC v11 accepts some of them as mutations.
 * A native-client request (see transport.ts) carries no cookie and no Origin: only its
 * media type is checked.
 *
 * @example
 * getRequestProblem(req, 'https://app.example.com', 'cookie') // => { status: 403, message: '…' } | null
 */
export function getRequestProblem(
  req: IncomingMessage,
  appOrigin: string,
  transport: Transport,
): { status: 403 | 415; code: 'FORBIDDEN' | 'UNSUPPORTED_MEDIA_TYPE'; message: string } | null {
  if (SAFE_METHODS.has(req.method ?? '')) return null;
  if (transport === 'cookie') {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') {
      return { status: 403, code: 'FORBIDDEN', message: `Cross-site request refused (Sec-Fetch-Site: ${site})` };
    }
    const origin = req.headers.origin;
    if (origin !== appOrigin) {
      const message = origin ? `Origin ${origin} is not allowed` : 'Origin header required';
      return { status: 403, code: 'FORBIDDEN', message };
    }
  }
  const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' };
  }
  return null;
}
