// `gwmo notification …`: Package#0 decoding, checking and building, loaded only when one of them runs.
import { NotificationError } from '../../protocol/errors.ts';
import {
  type DecodedNotification,
  decodeNotification,
  encodeNotification,
  sessionIdToHeader,
  verifyNotification,
  type UiMode,
} from '../../protocol/notification/index.ts';
import { CliError } from '../cli-error.ts';

export function decodeCommand(hex: string): void {
  const n = decode(hex);
  process.stdout.write(`${JSON.stringify(describe(n), null, 2)}\n`);
}

export function verifyCommand(hex: string, opts: { serverId: string; password: string; nonce: string }): void {
  const n = decode(hex);
  if (n.serverId !== opts.serverId) {
    throw new CliError(`the message names server id "${n.serverId}", not "${opts.serverId}"`, 1);
  }
  const ok = verifyNotification(n, opts.password, [{ source: 'stored-text', nonce: new TextEncoder().encode(opts.nonce) }]);
  if (ok === undefined) throw new CliError('digest does not verify with this password and nonce', 1);
  process.stdout.write(`digest verifies: server ${n.serverId}, SessionID ${sessionIdToHeader(n.sessionId)}\n`);
}

export function encodeCommand(opts: Record<string, string>): void {
  const initiator = opts['initiator'];
  if (initiator !== 'server' && initiator !== 'client') throw new CliError(`--initiator must be server or client, got "${initiator}"`);
  try {
    const bytes = encodeNotification(
      {
        serverId: opts['serverId']!,
        sessionId: integer('--session-id', opts['sessionId']!),
        uiMode: integer('--ui-mode', opts['uiMode']!) as UiMode,
        initiator,
        version: integer('--version', opts['version']!),
        vendor: opts['vendor'] === undefined ? new Uint8Array(0) : hexBytes('--vendor', opts['vendor']),
      },
      { password: opts['password']!, nonce: new TextEncoder().encode(opts['nonce']!) },
    );
    process.stdout.write(`${Buffer.from(bytes).toString('hex')}\n`);
  } catch (err) {
    if (err instanceof NotificationError) throw new CliError(`${err.message} (${err.code})`);
    throw err;
  }
}

function describe(n: DecodedNotification): Record<string, unknown> {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return {
    digestHex: hex(n.digest),
    version: n.version,
    uiMode: n.uiMode,
    initiator: n.initiator,
    sessionId: n.sessionId,
    sessionIdHeader: sessionIdToHeader(n.sessionId),
    serverId: n.serverId,
    // the vendor-specific trigger body that follows the server id
    bodyHex: hex(n.vendor),
    triggerHex: hex(n.trigger),
  };
}

function decode(hex: string): DecodedNotification {
  try {
    return decodeNotification(hexBytes('<hex>', hex));
  } catch (err) {
    if (err instanceof NotificationError) throw new CliError(`${err.message} (${err.code})`);
    throw err;
  }
}

function hexBytes(what: string, text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '').replace(/^0x/i, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(compact)) throw new CliError(`${what} is not hex (pairs of 0-9a-f)`);
  return new Uint8Array(Buffer.from(compact, 'hex'));
}

function integer(what: string, text: string): number {
  const value = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new CliError(`${what} must be an integer, got "${text}"`);
  return value;
}
