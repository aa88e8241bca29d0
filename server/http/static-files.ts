// Serves the built SPA (dist/public) with `send`, which implements Range, If-Range and
// conditional GET per RFC 9110. Edit it to change caching or the client-side-route fallback.
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { join, sep } from 'node:path';
import send from 'send';

// Vite puts content-hashed files in /assets: a new build means new names.
const IMMUTABLE = 'public, max-age=31536000, immutable';
// index.html (and the fallback) must be revalidated, or users keep an old build.
const REVALIDATE = 'no-cache';
// Headers `send` sets for the file before it knows it cannot send it.
const FILE_HEADERS = [
  'accept-ranges',
  'cache-control',
  'content-length',
  'content-range',
  'content-type',
  'etag',
  'last-modified',
];

interface HttpError extends Error {
  status?: number;
  headers?: Record<string, string>;
}

/**
 * Serves the files under `root`: GET and HEAD only, no dotfiles, no directory listings,
 * `/index.html` for client-side routes. Resolves once the response is under way; rejects
 * on an unexpected error (the caller answers 500).
 *
 * @example const serveStatic = createStaticFiles('dist/public'); await serveStatic(req, res)
 */
export function createStaticFiles(root: string) {
  const assetsDir = join(root, 'assets') + sep;

  function sendFile(req: IncomingMessage, res: ServerResponse, urlPath: string) {
    return new Promise<HttpError | null>((resolve, reject) => {
      const sent = () => resolve(null);
      res.once('close', sent);
      send(req, urlPath, { root, dotfiles: 'ignore', cacheControl: false })
        // The file actually served decides, not the URL: /assets/../index.html is index.html.
        .on('headers', (_res: ServerResponse, file: string) =>
          res.setHeader('Cache-Control', file.startsWith(assetsDir) ? IMMUTABLE : REVALIDATE),
        )
        // A directory without index.html (/assets): not found, never a listing or a redirect.
        .on('directory', () => {
          res.off('close', sent);
          resolve(Object.assign(new Error('Not found'), { status: 404 }));
        })
        // Without this listener, a file deleted between stat and read throws in an event
        // handler and ends the process; with it, every failure is a status here.
        .on('error', (error: HttpError) => {
          res.off('close', sent);
          if (res.headersSent || (error.status ?? 500) >= 500) reject(error);
          else resolve(error);
        })
        .pipe(res);
    });
  }

  return async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return answer(res, 405, { allow: 'GET, HEAD' });
    }
    const urlPath = (req.url ?? '/').split('?')[0] ?? '/';
    let problem = await sendFile(req, res, urlPath);
    if (problem?.status === 404 && isClientRoute(req, urlPath)) {
      problem = await sendFile(req, res, '/index.html');
    }
    if (problem) answer(res, problem.status ?? 500, problem.headers);
  };
}

/** A page the SPA routes itself (/sessions), as opposed to a missing file. */
function isClientRoute(req: IncomingMessage, urlPath: string) {
  return !urlPath.startsWith('/assets/') && (req.headers.accept ?? '').includes('text/html');
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}) {
  for (const name of FILE_HEADERS) res.removeHeader(name);
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${STATUS_CODES[status] ?? 'Error'}\n`);
}
