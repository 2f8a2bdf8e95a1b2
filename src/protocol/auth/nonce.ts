import { randomBytes } from 'node:crypto';

import { AuthError, AuthErrorCode } from '../errors.ts';
import { toBase64 } from './digest.ts';

/** Nonces should be at least 16 random octets, new for every session (every message under HMAC). */
export const NONCE_BYTES = 16;

// random octets drawn from the CSPRNG 4 KB at a time: a call per nonce was a visible share of a device session
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let drawn = 0;

export function newNonce(size = NONCE_BYTES): Uint8Array {
  if (size > POOL_BYTES) return new Uint8Array(randomBytes(size));
  if (drawn + size > pool.length) {
    pool = randomBytes(POOL_BYTES);
    drawn = 0;
  }
  const nonce = new Uint8Array(pool.subarray(drawn, drawn + size)); // a copy: no two nonces share bytes
  drawn += size;
  return nonce;
}

/** The NextNonce text for a Chal. */
export function nonceToText(nonce: Uint8Array): string {
  return toBase64(nonce);
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a NextNonce as sent (base64); peers that omit padding are accepted. */
export function nonceFromText(text: string): Uint8Array {
  const compact = text.trim();
  if (!B64.test(compact) || compact.length % 4 === 1) {
    throw new AuthError(AuthErrorCode.BadNonce, 'NextNonce is not base64');
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * The nonce a DM 1.2.1 client falls back to when a Package#0 does not verify with the stored one.
 * AOSP reads "0x00000000" as four zero bytes (what gwmo sends); libdmclient as the ASCII text.
 */
export const RESYNC_NONCE = new Uint8Array(4);
export const RESYNC_NONCE_TEXT = new TextEncoder().encode('0x00000000');
