// Structured JSON logs on stdout (pino): one line per event, `{level, time, role, event, ...fields}`.
// The event names are the contract (tests and docs match on them); the level comes from --log-level.
import pino, { type Logger } from 'pino';

import { logLevel, onLogLevel } from './log-level.ts';

export type EventLog = (event: string, fields: Record<string, unknown>) => void;

let root: Logger | undefined;
onLogLevel((to) => {
  if (root) root.level = to;
});

function rootLogger(): Logger {
  // sync writes: a process that exits right after an error still prints its last line
  root ??= pino(
    {
      level: logLevel(),
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
  return root;
}

/** The level an event is logged at, from its name: failures error, refusals warn, routine background work debug, the rest info. */
export function levelOf(event: string): 'debug' | 'info' | 'warn' | 'error' {
  if (/\.error$/.test(event)) return 'error';
  if (event === 'retention.run') return 'debug';
  if (/[.-](failed|refused|invalid|locked|unavailable|lost)$/.test(event)) return 'warn';
  return 'info';
}

export function jsonLog(role: string): EventLog {
  const logger = rootLogger().child({ role });
  return (event, fields) => logger[levelOf(event)]({ event, ...fields });
}
