// Structured JSON logs on stdout (pino): one line per event, `{level, time, role, event, ...fields}`.
// The event names are the contract (tests and docs match on them); the level comes from --log-level.
import pino, { type Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type EventLog = (event: string, fields: Record<string, unknown>) => void;

let root: Logger | undefined;
let level: LogLevel = 'info';

export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/** Set once from the command's options, before any logger is made. */
export function setLogLevel(to: LogLevel): void {
  level = to;
  if (root) root.level = to;
}

function rootLogger(): Logger {
  // sync writes: a process that exits right after an error still prints its last line
  root ??= pino({
    level, base: null, timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, pino.destination({ dest: 1, sync: true }));
  return root;
}

/** The level an event is logged at, from its name: failures error, refusals warn, the rest info. */
export function levelOf(event: string): 'info' | 'warn' | 'error' {
  if (/\.error$/.test(event)) return 'error';
  if (/[.-](failed|refused|invalid|locked)$/.test(event)) return 'warn';
  return 'info';
}

export function jsonLog(role: string): EventLog {
  const logger = rootLogger().child({ role });
  return (event, fields) => logger[levelOf(event)]({ event, ...fields });
}
