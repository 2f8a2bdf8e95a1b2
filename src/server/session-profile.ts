// A device account's session profile and server nonce as the API sets them (docs/interop.md):
// checked once here, with errors that name the field and the rule.
import type { SessionProfileRow } from '../store/server.ts';
import { ServiceError } from './service.ts';

/** what an operator sets; the rest of a profile is learned from the device's sessions */
const FIELDS = {
  commandsPerMessage: { kind: 'int', min: 1, max: 1000 },
  explicitFormat: { kind: 'bool' },
  largeObjects: { kind: 'bool' },
  // below 1 KiB not even Pkg2's header and a Status fit
  maxMsgSize: { kind: 'int', min: 1024, max: 1024 * 1024 },
} as const;
type Field = keyof typeof FIELDS;

const MAX_NONCE_BYTES = 64;

function check(input: unknown, nullable: boolean): Record<string, number | boolean | null> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ServiceError(400, `sessionProfile is an object with any of ${Object.keys(FIELDS).join(', ')}`);
  }
  const out: Record<string, number | boolean | null> = {};
  for (const [key, value] of Object.entries(input)) {
    const rule = FIELDS[key as Field];
    if (rule === undefined)
      throw new ServiceError(400, `sessionProfile.${key} is not a profile field; the fields are ${Object.keys(FIELDS).join(', ')}`);
    if (value === null && nullable) out[key] = null;
    else if (rule.kind === 'bool') {
      if (typeof value !== 'boolean')
        throw new ServiceError(400, `sessionProfile.${key} must be true or false${nullable ? ' (null: the default)' : ''}`);
      out[key] = value;
    } else {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min || value > rule.max) {
        throw new ServiceError(
          400,
          `sessionProfile.${key} must be a whole number from ${rule.min} to ${rule.max}${nullable ? ' (null: no limit of its own)' : ''}`,
        );
      }
      out[key] = value;
    }
  }
  return out;
}

/** A new account's profile. */
export function sessionProfile(input: unknown): SessionProfileRow {
  return check(input, false) as SessionProfileRow;
}

/**
 * The profile after a PATCH: the fields given are set (null returns one to the default). Setting
 * commandsPerMessage starts the learned back-off over: the operator has decided.
 */
export function profilePatch(before: SessionProfileRow | undefined, input: unknown): SessionProfileRow {
  const given = check(input, true);
  const merged: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(given)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  if ('commandsPerMessage' in given) delete merged['effectiveCommandsPerMessage'];
  return merged as SessionProfileRow;
}

/** The nonce the device holds for the server, from base64 ("" is the empty nonce, which some devices are provisioned with). */
export function serverNonce(text: string): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new ServiceError(400, 'serverNonce must be base64 ("" for the empty nonce; null to forget it and use the resync nonce)');
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (bytes.length > MAX_NONCE_BYTES) throw new ServiceError(400, `serverNonce must be at most ${MAX_NONCE_BYTES} bytes`);
  return bytes;
}

/** A profile as the API shows it: every field, defaults filled in, learned values marked as such. */
export function profileView(p: SessionProfileRow | undefined): Record<string, unknown> {
  return {
    commandsPerMessage: p?.commandsPerMessage ?? null,
    explicitFormat: p?.explicitFormat ?? true,
    largeObjects: p?.largeObjects ?? true,
    maxMsgSize: p?.maxMsgSize ?? null,
    effectiveCommandsPerMessage: p?.effectiveCommandsPerMessage ?? null,
    deviceLrgObj: p?.deviceLrgObj ?? null,
  };
}
