// Verifying a Package#0 on the client, with DM 1.2.1 nonce resynchronisation (digest §6.4).
import { timingSafeEqual } from 'node:crypto';

import { nonceFromText, RESYNC_NONCE, RESYNC_NONCE_TEXT } from '../auth/nonce.ts';
import { AuthError } from '../errors.ts';
import { type DecodedNotification, notificationDigest } from './package0.ts';

export type NonceSource = 'stored' | 'stored-text' | 'resync' | 'resync-text';

export interface NonceCandidate {
  readonly source: NonceSource;
  readonly nonce: Uint8Array;
}

/**
 * The nonces a client tries, in order: the stored server nonce decoded from base64, the same text
 * undecoded (AOSP tries both), then the resync nonce as four zero bytes (AOSP, what gwmo servers
 * send) and as the ASCII text "0x00000000" (libdmclient).
 */
export function nonceCandidates(storedText: string | undefined): NonceCandidate[] {
  const out: NonceCandidate[] = [];
  if (storedText !== undefined && storedText !== '') {
    try {
      out.push({ source: 'stored', nonce: nonceFromText(storedText) });
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
    }
    out.push({ source: 'stored-text', nonce: new TextEncoder().encode(storedText) });
  }
  out.push({ source: 'resync', nonce: RESYNC_NONCE }, { source: 'resync-text', nonce: RESYNC_NONCE_TEXT });
  return out;
}

/** The first candidate whose digest matches, or undefined: then the notification is ignored. */
export function verifyNotification(
  n: DecodedNotification,
  password: string,
  candidates: readonly NonceCandidate[],
): NonceCandidate | undefined {
  for (const candidate of candidates) {
    const expected = notificationDigest(n.serverId, password, candidate.nonce, n.trigger);
    if (timingSafeEqual(expected, n.digest)) return candidate;
  }
  return undefined;
}
