// Why the database DATABASE_URL names cannot be used, in words a newcomer can act on. Boot
// and the scripts print such an error's message on one line and exit; anything else is a bug.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The database DATABASE_URL names cannot be used (a bad URL, a file SQLite cannot open or write). */
export class DatabaseUrlError extends Error {}

const AFRESH = 'to start afresh, move it away and run `npm run setup`';

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
const readOnly = (path: string) =>
  `${path} is read-only here: the server writes sessions and audit events to it. Give the ` +
  "server's user write access to the file and its directory.";

/**
 * A DatabaseUrlError for what opening or writing the SQLite file `path` threw, or undefined
 * when the error is not about the file (a bug, to be shown as one).
 */
export function sqliteFileError(error: unknown, path: string): DatabaseUrlError | undefined {
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = (() => {
    switch (code) {
      case 'EISDIR':
        return `DATABASE_URL names a directory (${path}): point it at a file, such as ${join(path, 'app.db')}.`;
      case 'ENOTDIR':
        return `DATABASE_URL (${path}) runs through a file as if it were a directory: check the path.`;
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        if (isFile(path)) return readOnly(path);
        return (
          `Cannot create or open ${path}: ${dirname(path)} is not writable here (${code}). ` +
          "Give the server's user write access to it, or point DATABASE_URL elsewhere."
        );
      case 'ENOSPC':
      case 'SQLITE_FULL':
        return `The disk holding ${path} is full: free some space and start again.`;
      case 'SQLITE_NOTADB':
        return `${path} is not a SQLite database (or its header is damaged): restore the right file, or ${AFRESH}.`;
      case 'SQLITE_CORRUPT':
        return `${path} is damaged (SQLite: ${(error as Error).message}): restore it from a backup, or ${AFRESH}.`;
      case 'SQLITE_CANTOPEN':
        return `Cannot open ${path}: check that its directory exists and that this user may write there.`;
      case 'SQLITE_BUSY':
      case 'SQLITE_LOCKED':
        return (
          `${path} is locked by another program, which held its write lock for over 5 s: close it ` +
          '(a database browser with unsaved changes?) and start again.'
        );
      default:
        if (code.startsWith('SQLITE_READONLY')) return readOnly(path);
        if (code.startsWith('SQLITE_IOERR')) return `Reading or writing ${path} failed (${code}): check the disk.`;
        return undefined;
    }
  })();
  return message === undefined ? undefined : new DatabaseUrlError(message);
}
