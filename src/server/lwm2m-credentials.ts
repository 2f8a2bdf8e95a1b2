// LwM2M credentials for devices behind a gateway, from the server's side (docs/lwm2m.md "Security"):
// what an operator may give (PSK identity + key, or an RPK; the bootstrap PSK and target), checked
// here as the gateway checks it, and the DM operations that write it into ./GwMO/LwM2MCredentials.
// The key goes to the gateway only inside the DM session; reads answer a fingerprint.
import { createHash, createPublicKey } from 'node:crypto';

import type { NewOperation } from './service.ts';
import { ServiceError } from './service.ts';
import { nodeName } from './gateways.ts';

export const CREDENTIALS_MO = './GwMO/LwM2MCredentials';
/** a PSK: 16–64 bytes in hex (RFC 4279 allows more; below 128 bits is refused as guessable) */
export const HEX_KEY = /^(?:[0-9a-fA-F]{2}){16,64}$/;
/** RFC 4279 §5.1: UTF-8; printable, so a log line or a node value cannot be forged with it */
export const PSK_IDENTITY = /^[^\p{Cc}\s][^\p{Cc}]{0,127}$/u;
export const LWM2M_SERVER_URI = /^coaps?:\/\/[^/\s]+\/?$/;

/** sha256 of the key bytes: tells which key is held without showing it */
export function fingerprint(text: string, encoding: 'hex' | 'base64'): string {
  return `sha256:${createHash('sha256').update(Buffer.from(text, encoding)).digest('hex')}`;
}

/** base64 SubjectPublicKeyInfo DER of an EC P-256 key (RFC 7250 raw public key), from PEM or base64 DER; else undefined. */
export function p256Spki(text: string): string | undefined {
  try {
    const pem = text.includes('-----BEGIN');
    const key = pem ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return undefined;
    return key.export({ format: 'der', type: 'spki' }).toString('base64');
  } catch {
    return undefined;
  }
}

export interface Lwm2mCredentialRequest {
  readonly identity?: string;
  /** hex */
  readonly key?: string;
  /** PEM or base64 SPKI DER */
  readonly publicKey?: string;
  readonly bootstrapIdentity?: string;
  readonly bootstrapKey?: string;
  /** "" = the gateway itself */
  readonly serverUri?: string;
}

/** The operations that write the credentials; refuses what the gateway would, naming the field. */
export function credentialOperations(endpoint: string, r: Lwm2mCredentialRequest): NewOperation[] {
  if ((r.identity === undefined) !== (r.key === undefined))
    throw new ServiceError(400, 'identity and key go together (a PSK identity and its key, hex)');
  if ((r.bootstrapIdentity === undefined) !== (r.bootstrapKey === undefined))
    throw new ServiceError(400, 'bootstrapIdentity and bootstrapKey go together');
  for (const [name, v] of [
    ['identity', r.identity],
    ['bootstrapIdentity', r.bootstrapIdentity],
  ] as const)
    if (v !== undefined && !PSK_IDENTITY.test(v))
      throw new ServiceError(400, `${name} must be 1–128 characters, no control characters, not starting with a space`);
  for (const [name, v] of [
    ['key', r.key],
    ['bootstrapKey', r.bootstrapKey],
  ] as const)
    if (v !== undefined && !HEX_KEY.test(v)) throw new ServiceError(400, `${name} must be 16–64 bytes in hex (e.g. openssl rand -hex 16)`);
  const spki = r.publicKey !== undefined ? p256Spki(r.publicKey) : undefined;
  if (r.publicKey !== undefined && !spki)
    throw new ServiceError(400, 'publicKey must be an EC P-256 public key, PEM or base64 SubjectPublicKeyInfo DER');
  if (r.serverUri !== undefined && r.serverUri !== '' && !LWM2M_SERVER_URI.test(r.serverUri))
    throw new ServiceError(400, 'serverUri must be coap://host:port or coaps://host:port (or "" for the gateway itself)');
  const base = `${CREDENTIALS_MO}/${nodeName(endpoint)}`;
  const put = (leaf: string, value: string | undefined): NewOperation[] =>
    value === undefined ? [] : [{ kind: 'Replace', path: `${base}/${leaf}`, value }];
  const ops: NewOperation[] = [
    { kind: 'Add', path: base, format: 'node' }, // 418 when it exists: fine
    ...put('Identity', r.identity),
    ...put('SecretKey', r.key?.toLowerCase()),
    ...put('PublicKey', spki),
    ...put('BootstrapIdentity', r.bootstrapIdentity),
    ...put('BootstrapSecretKey', r.bootstrapKey?.toLowerCase()),
    ...put('ServerURI', r.serverUri),
  ];
  if (ops.length === 1) throw new ServiceError(400, 'give identity + key, publicKey, bootstrapIdentity + bootstrapKey or serverUri');
  return ops;
}
