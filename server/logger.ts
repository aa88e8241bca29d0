// The server's logger: pino, one JSON object per line in production (for a log collector),
// human-readable lines in development. Every line of a request carries its id (`reqId`,
// also sent back as X-Request-Id). Fields named like credentials are replaced by
// "[redacted]" at any depth and in any case, so a `details` object passed in a hurry
// cannot leak a cookie, a token or a password (test/server/logging.test.ts).
import pino from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = Record<LogLevel, (message: string, details?: Record<string, unknown>) => void> & {
  /** The same logger, adding `bindings` to every line (a request's id). Test loggers may leave it out. */
  child?: (bindings: Record<string, unknown>) => Logger;
};

/** Names of fields that hold a credential (compared in lower case), wherever they appear in what is logged. */
const SECRET_FIELDS = new Set([
  'cookie',
  'authorization',
  'set-cookie',
  'password',
  'currentpassword',
  'newpassword',
  'passwordhash',
  'token',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'id_token',
  'secret',
  'client_secret',
  'recoverycode',
  'recoverycodes',
  'challenge',
  'passkey',
]);
const MAX_DEPTH = 8;

/**
 * `value` with every credential field replaced, at any depth (to MAX_DEPTH, past which
 * nothing is written), in objects and arrays; cycles are cut. Errors keep their message
 * and stack (pino's serializer), but their own fields are walked like any object.
 */
function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const source = value instanceof Error ? { ...pino.stdSerializers.err(value) } : value;
  return Object.fromEntries(
    Object.entries(source).map(([key, field]) => [
      key,
      SECRET_FIELDS.has(key.toLowerCase()) ? '[redacted]' : redact(field, depth + 1, seen),
    ]),
  );
}

export interface LoggerOptions {
  /** `json` for production (the default there), `pretty` for a person at a terminal. */
  format?: 'json' | 'pretty';
  /** Where lines go (stdout by default); tests pass a stream of their own. */
  destination?: NodeJS.WritableStream;
}

function wrap(logger: pino.Logger): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, details?: Record<string, unknown>): void =>
      details ? logger[level](details, message) : logger[level](message);
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (bindings) => wrap(logger.child(bindings)),
  };
}

/**
 * @example
 * const logger = createLogger('info', { format: 'json' })
 * logger.warn('rate limit hit', { ip })              // {"level":"warn","time":"…","msg":"rate limit hit","ip":"…"}
 * logger.child?.({ reqId }).info('GET /trpc/user.me 200 3.1 ms')
 */
export function createLogger(minimum: LogLevel, { format = 'json', destination }: LoggerOptions = {}): Logger {
  const stream =
    format === 'pretty'
      ? pretty({
          sync: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,reqId',
          // The id on the line itself, shortened: enough to tell a terminal's requests apart.
          messageFormat: (log, messageKey) =>
            `${String(log[messageKey])}${typeof log.reqId === 'string' ? ` (req ${log.reqId.slice(0, 8)})` : ''}`,
          destination: destination ?? 1,
        })
      : (destination ?? pino.destination({ dest: 1, sync: true }));
  return wrap(
    pino(
      {
        level: minimum,
        // Level names rather than numbers, and ISO times: readable by people and collectors alike.
        timestamp: pino.stdTimeFunctions.isoTime,
        base: undefined,
        formatters: {
          level: (label) => ({ level: label }),
          log: (object) => redact(object) as Record<string, unknown>,
        },
      },
      stream,
    ),
  );
}

/** The logger for one request: its lines carry `reqId`. */
export const forRequest = (logger: Logger, reqId: string): Logger => logger.child?.({ reqId }) ?? logger;
