// DM 1.2 General Package#0 (notification-initiated session), digest §6. Big-endian, no padding:
// digest(16) | version(10 bits) ui(2) initiator(1) future(27) session(16) idlen(8) | serverId | vendor
import { NotificationError, NotificationErrorCode } from '../errors.ts';
import { authKey, md5, toBase64 } from '../auth/digest.ts';

export const UiMode = { NotSpecified: 0, Background: 1, Informative: 2, UserInteraction: 3 } as const;
export type UiMode = (typeof UiMode)[keyof typeof UiMode];
export type Initiator = 'server' | 'client';

/**
 * The spec's example and libdmclient use 11 ("1.1"); our default is 12 as the project decided
 * (docs/decisions.md). Decoding accepts 10–13: independent clients use 11 or 12, DM 1.0 wrote 10.
 */
export const DEFAULT_NOTIFICATION_VERSION = 12;
export const MIN_NOTIFICATION_VERSION = 10;
export const MAX_NOTIFICATION_VERSION = 13;

const DIGEST_LEN = 16;
const HEADER_LEN = 8;
export const MIN_PACKAGE0_LEN = DIGEST_LEN + HEADER_LEN + 1;

export interface Notification {
  readonly version: number;
  readonly uiMode: UiMode;
  readonly initiator: Initiator;
  /** 1…0xFFFF; becomes the DM session's SessionID (see sessionIdToHeader). */
  readonly sessionId: number;
  readonly serverId: string;
  readonly vendor: Uint8Array;
}

export interface DecodedNotification extends Notification {
  readonly digest: Uint8Array;
  /** Bytes 16…end (header, server id, vendor body): what the digest covers. */
  readonly trigger: Uint8Array;
}

/** `H( B64(H(serverId ":" password)) ":" nonce ":" B64(H(trigger)) )`, 16 raw bytes. */
export function notificationDigest(serverId: string, password: string, nonce: Uint8Array, trigger: Uint8Array): Uint8Array {
  return md5(authKey(serverId, password), ':', nonce, ':', toBase64(md5(trigger)));
}

export interface EncodeInput extends Partial<Pick<Notification, 'version' | 'uiMode' | 'initiator' | 'vendor'>> {
  readonly serverId: string;
  readonly sessionId: number;
}

export function encodeTrigger(n: EncodeInput): Uint8Array {
  const version = n.version ?? DEFAULT_NOTIFICATION_VERSION;
  const uiMode = n.uiMode ?? UiMode.NotSpecified;
  const vendor = n.vendor ?? new Uint8Array(0);
  const id = new TextEncoder().encode(n.serverId);
  if (!Number.isInteger(version) || version < 0 || version > 0x3ff) throw badInput(`version ${version} does not fit 10 bits`);
  if (!Number.isInteger(uiMode) || uiMode < 0 || uiMode > 3) throw badInput(`ui mode ${uiMode} is not 0–3`);
  if (!Number.isInteger(n.sessionId) || n.sessionId < 1 || n.sessionId > 0xffff) {
    throw badInput(`session id ${n.sessionId} is not 1–65535`);
  }
  if (id.length === 0 || id.length > 255) throw badInput(`server id must be 1–255 bytes, got ${id.length}`);
  const out = new Uint8Array(HEADER_LEN + id.length + vendor.length);
  out[0] = version >> 2;
  out[1] = ((version & 3) << 6) | (uiMode << 4) | ((n.initiator === 'server' ? 1 : 0) << 3);
  out[5] = n.sessionId >> 8;
  out[6] = n.sessionId & 0xff;
  out[7] = id.length;
  out.set(id, HEADER_LEN);
  out.set(vendor, HEADER_LEN + id.length);
  return out;
}

/** The whole Package#0: digest computed from the server's credentials and the client's server nonce. */
export function encodeNotification(n: EncodeInput, secret: { readonly password: string; readonly nonce: Uint8Array }): Uint8Array {
  const trigger = encodeTrigger(n);
  const out = new Uint8Array(DIGEST_LEN + trigger.length);
  out.set(notificationDigest(n.serverId, secret.password, secret.nonce, trigger), 0);
  out.set(trigger, DIGEST_LEN);
  return out;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function decodeNotification(bytes: Uint8Array): DecodedNotification {
  if (bytes.length < MIN_PACKAGE0_LEN) {
    throw new NotificationError(
      NotificationErrorCode.Truncated,
      bytes.length,
      `Package#0 needs at least ${MIN_PACKAGE0_LEN} bytes (digest, header, server id), got ${bytes.length}`,
    );
  }
  const b = (i: number): number => bytes[i]!;
  const h = DIGEST_LEN;
  const version = (b(h) << 2) | (b(h + 1) >> 6);
  if (version < MIN_NOTIFICATION_VERSION || version > MAX_NOTIFICATION_VERSION) {
    throw new NotificationError(
      NotificationErrorCode.UnsupportedVersion,
      h,
      `notification version ${version} is not ${MIN_NOTIFICATION_VERSION}–${MAX_NOTIFICATION_VERSION}`,
    );
  }
  const uiMode = ((b(h + 1) >> 4) & 3) as UiMode;
  const initiator: Initiator = (b(h + 1) >> 3) & 1 ? 'server' : 'client';
  const sessionId = (b(h + 5) << 8) | b(h + 6);
  const idLen = b(h + 7);
  if (idLen === 0) throw new NotificationError(NotificationErrorCode.BadField, h + 7, 'server identifier length is 0');
  const idStart = h + HEADER_LEN;
  if (idStart + idLen > bytes.length) {
    throw new NotificationError(
      NotificationErrorCode.Truncated,
      bytes.length,
      `server identifier of ${idLen} bytes runs past the end of the ${bytes.length}-byte message`,
    );
  }
  let serverId: string;
  try {
    serverId = utf8Strict.decode(bytes.subarray(idStart, idStart + idLen));
  } catch {
    throw new NotificationError(NotificationErrorCode.BadField, idStart, 'server identifier is not valid UTF-8');
  }
  // the 27 future-use bits are ignored, as AOSP and libdmclient do: a later version may use them
  return {
    digest: bytes.slice(0, DIGEST_LEN),
    trigger: bytes.slice(h),
    version,
    uiMode,
    initiator,
    sessionId,
    serverId,
    vendor: bytes.slice(idStart + idLen),
  };
}

/** The SessionID a client must use: uppercase hex without leading zeros (0x002A → "2A"). */
export function sessionIdToHeader(sessionId: number): string {
  return sessionId.toString(16).toUpperCase();
}

function badInput(detail: string): NotificationError {
  return new NotificationError(NotificationErrorCode.BadField, -1, detail);
}
