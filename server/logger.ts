// A small leveled logger: one line per event, to stderr for warnings and errors.
// Swap it for pino or your platform's logger by keeping the four methods.
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];
export type Logger = Record<LogLevel, (message: string, details?: Record<string, unknown>) => void>;

/** @example createLogger('info').warn('rate limit hit', { ip }) */
export function createLogger(minimum: LogLevel): Logger {
  const threshold = LEVELS.indexOf(minimum);
  const log = (level: LogLevel) => (message: string, details?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < threshold) return;
    const line = `${new Date().toISOString()} ${level.padEnd(5)} ${message}${
      details ? ` ${JSON.stringify(details)}` : ''
    }\n`;
    (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(line);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
