// The log level chosen by --log-level, apart from the logger itself so that reading options (and
// `--help`) does not load pino.
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let level: LogLevel = 'info';
let listener: ((to: LogLevel) => void) | undefined;

export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/** Set once from the command's options, before any logger is made. */
export function setLogLevel(to: LogLevel): void {
  level = to;
  listener?.(to);
}

export function logLevel(): LogLevel {
  return level;
}

/** the logger, once made, follows later changes */
export function onLogLevel(follow: (to: LogLevel) => void): void {
  listener = follow;
}
