// Authentication of the device by the server, per message (digest §5.4): 407/401 with a Chal, 212
// once for the session under basic/md5, 200 + a fresh Chal on every message under HMAC.
import { createHmac } from 'node:crypto';

import {
  AuthScheme,
  type Chal,
  type Cred,
  checkCred,
  checkHmac,
  formatHmacHeader,
  hmac,
  makeChal,
  makeCred,
  type Message,
  NONCE_BYTES,
  RESYNC_NONCE,
  StatusCode,
} from '../../protocol/index.ts';
import type { WireMessage } from '../wire.ts';
import type { DeviceAccount } from './types.ts';

export interface AuthDecision {
  readonly ok: boolean;
  /** Status code for the SyncHdr */
  readonly code: number;
  readonly chal?: Chal;
  /** the nonce sent in `chal`, to store as the device's next nonce */
  readonly issuedNonce?: Uint8Array;
}

function challenge(scheme: AuthScheme, nonce: Uint8Array): Chal {
  // basic has no nonce: its Chal only names the scheme
  return scheme === AuthScheme.Basic ? { meta: { type: scheme, format: 'b64' } } : makeChal(scheme, nonce);
}

export function authenticateDevice(
  account: DeviceAccount,
  msg: Message,
  wire: WireMessage,
  alreadyAuthenticated: boolean,
  newNonce: () => Uint8Array,
): AuthDecision {
  const { scheme, name, password } = account.clientAuth;
  const nonces = account.clientNonce ? [account.clientNonce, ...(account.firstContact ? [new Uint8Array(0)] : [])] : [new Uint8Array(0)];
  const locName = msg.hdr.source.locName;
  if (scheme === AuthScheme.Hmac) {
    const verdict = checkHmac(wire.hmac, wire.body, (u) => (u === name ? { name, password } : undefined), nonces).verdict;
    // under HMAC every message is authenticated and carries the nonce for the next one
    if (verdict === 'ok') {
      const nonce = newNonce();
      return { ok: true, code: StatusCode.Ok, chal: challenge(scheme, nonce), issuedNonce: nonce };
    }
    return refused(account, scheme, verdict === 'missing' ? StatusCode.MissingCredentials : StatusCode.Unauthorized, newNonce);
  }
  if (alreadyAuthenticated) return { ok: true, code: StatusCode.Ok };
  const nameClash = locName !== undefined && locName !== name && scheme !== AuthScheme.Basic;
  const verdict = nameClash ? 'refused' : checkCred(msg.hdr.cred, { scheme, name, password }, nonces).verdict;
  if (verdict === 'ok') {
    // 212: authenticated for the session; the Chal's nonce is for the next session
    if (scheme === AuthScheme.Basic) return { ok: true, code: StatusCode.AuthAccepted };
    const nonce = newNonce();
    return { ok: true, code: StatusCode.AuthAccepted, chal: challenge(scheme, nonce), issuedNonce: nonce };
  }
  return refused(account, scheme, verdict === 'missing' ? StatusCode.MissingCredentials : StatusCode.Unauthorized, newNonce);
}

/**
 * A refusal challenges with the stored nonce, new only when there is none yet: it was never used
 * (a success replaces it), so it is fresh to a device that tried a stale one (digest §5.4), and a
 * stranger's wrong guesses cannot rotate it (one store write per guess, and a race with the device).
 */
function refused(account: DeviceAccount, scheme: AuthScheme, code: number, newNonce: () => Uint8Array): AuthDecision {
  if (scheme === AuthScheme.Basic) return { ok: false, code, chal: challenge(scheme, new Uint8Array(0)) };
  if (account.clientNonce !== undefined) return { ok: false, code, chal: challenge(scheme, account.clientNonce) };
  const nonce = newNonce();
  return { ok: false, code, chal: challenge(scheme, nonce), issuedNonce: nonce };
}

/**
 * A nonce for an account nobody stored (a device id without one, a LAN device not yet enrolled): as
 * stable as a stored nonce (per id, per hour) and written nowhere, so asking costs no store write.
 */
export function standInNonce(key: Uint8Array, deviceId: string, now: number): Uint8Array {
  const hour = Math.floor(now / 3_600_000);
  return new Uint8Array(createHmac('sha256', key).update(`${deviceId}\u0000${hour}`).digest().subarray(0, NONCE_BYTES));
}

/** The server's own Cred for its SyncHdr (SRVCRED), md5 with the nonce the device gave us. */
export function serverCred(account: DeviceAccount): Cred | undefined {
  if (account.serverAuth === undefined || account.clientAuth.scheme === AuthScheme.Hmac) return undefined;
  // before the device ever sent us a nonce, both sides use the DM 1.2.1 resync nonce
  return makeCred(AuthScheme.Md5, account.serverAuth, account.serverNonce ?? RESYNC_NONCE);
}

/** The x-syncml-hmac header for a response body, when the session runs under HMAC. */
export function serverHmac(account: DeviceAccount, body: Uint8Array): string | undefined {
  if (account.clientAuth.scheme !== AuthScheme.Hmac || account.serverAuth === undefined) return undefined;
  const mac = hmac(account.serverAuth.name, account.serverAuth.password, account.serverNonce ?? RESYNC_NONCE, body);
  return formatHmacHeader({ username: account.serverAuth.name, mac });
}
