// What the server does when a device cannot take what the protocol allows (docs/interop.md): how
// often our commands go again after the device refused our credentials, what is retried when it
// drops a session, how far the next sessions back off, and the reasons an operator reads.
import type { Operation, OperationKind } from './types.ts';

/** times one session re-sends its commands after the device refused the server's credentials */
export const SERVER_AUTH_RESENDS = 2;

/**
 * Safe to send again when no Status came back: a Get reads, a Replace sets the same value twice, a
 * second Delete finds nothing (404, where the first gave 200: the node is gone either way). An Add
 * (418 Already exists the second time), an Exec (runs twice) and a Copy (a second copy) are not:
 * those are in doubt unless their creator said `retry: 'always'`.
 */
export const RETRIED_ON_DROP: ReadonlySet<OperationKind> = new Set(['Get', 'Replace', 'Delete']);

export function resendable(op: Operation): boolean {
  return RETRIED_ON_DROP.has(op.kind) || op.retry === 'always';
}

/** Commands per message after a device dropped a session: half of what it could not take, at least 1. */
export function lowered(current: number, lastMessage: number): number {
  return Math.max(1, Math.floor(Math.min(current, lastMessage) / 2));
}

export function serverRefusedNote(code: number, times = SERVER_AUTH_RESENDS + 1): string {
  return `the device refused the server's credentials (${code}) ${times} times in one session; queued until a session authenticates the server (check serverPassword and serverNonce)`;
}

export const Notes = {
  dropped: 'the device dropped the session before answering; queued again',
  inDoubt: (kind: OperationKind, sessionId: string, at: number, why: string): string =>
    `sent in session ${sessionId} at ${new Date(at).toISOString()}; no status received (${why}): whether the ${kind} ran is unknown, so it is not sent again (resolve it: retry, failed or done)`,
  chunkAnswered: (code: number): string =>
    `the device answered ${code} to a large-object chunk that was not the last: it does not support large objects (it may hold a truncated value)`,
  chunkRefused: (code: number): string => `the device answered ${code} to a large-object chunk: the rest was not sent`,
  overMaxObj: (size: number, max: number): string => `the value is ${size} bytes; the device takes objects of at most ${max} (MaxObjSize)`,
  noLargeObjects: (size: number, maxMsg: number, why: 'profile' | 'device'): string =>
    `the value is ${size} bytes, more than one message of ${maxMsg} bytes holds, and ${why === 'device' ? 'the device does not support large objects (DevDetail/LrgObj false)' : 'the session profile allows no large objects'}: nothing was sent`,
  notRepresentable: (encoding: string, why: string): string => `not sent: the device's session is ${encoding.toUpperCase()} and ${why}`,
} as const;
