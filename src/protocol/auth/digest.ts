// The OMA DM credential formulas (digest §5.2). H = MD5, B64 = base64 with padding, ':' = 0x3A.
// Nonces are bytes: a NextNonce is base64 text on the wire and is decoded before it is hashed.
import { createHash, timingSafeEqual } from 'node:crypto';

const COLON = Uint8Array.of(0x3a);
const encoder = new TextEncoder();

export function md5(...parts: readonly (Uint8Array | string)[]): Uint8Array {
  const hash = createHash('md5');
  for (const part of parts) hash.update(typeof part === 'string' ? encoder.encode(part) : part);
  return new Uint8Array(hash.digest());
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * `B64(H(name ":" password))`: what a verifier stores instead of the password; every digest
 * below can be computed from it.
 */
export function authKey(name: string, password: string): string {
  return toBase64(md5(name, COLON, password));
}

/** syncml:auth-basic: `B64(name ":" password)`. */
export function basicCredential(name: string, password: string): string {
  return toBase64(encoder.encode(`${name}:${password}`));
}

/** syncml:auth-md5 from the stored key: `B64(H(key ":" nonce))`. */
export function md5CredentialFromKey(key: string, nonce: Uint8Array): string {
  return toBase64(md5(key, COLON, nonce));
}

export function md5Credential(name: string, password: string, nonce: Uint8Array): string {
  return md5CredentialFromKey(authKey(name, password), nonce);
}

/** syncml:auth-MAC over the exact body bytes: `B64(H(key ":" nonce ":" B64(H(body))))`. */
export function hmacFromKey(key: string, nonce: Uint8Array, body: Uint8Array): string {
  return toBase64(md5(key, COLON, nonce, COLON, toBase64(md5(body))));
}

export function hmac(name: string, password: string, nonce: Uint8Array, body: Uint8Array): string {
  return hmacFromKey(authKey(name, password), nonce, body);
}

/** Compares two credential strings in time independent of their content (hashes first: equal lengths). */
export function sameCredential(a: string, b: string): boolean {
  return timingSafeEqual(md5(a), md5(b));
}
