// Cred and Chal as they travel in a message, and the checks each side runs on them (digest §5.1, §5.4).
// A check answers with a verdict, never an exception: the session turns it into 401/407/212/200.
import { AuthScheme } from '../codes.ts';
import { AuthError, AuthErrorCode } from '../errors.ts';
import type { Chal, Cred } from '../model.ts';
import { authKey, basicCredential, hmacFromKey, md5CredentialFromKey, sameCredential } from './digest.ts';
import { type HmacHeader, parseHmacHeader } from './hmac-header.ts';
import { nonceToText } from './nonce.ts';

export interface Credentials {
  readonly name: string;
  readonly password: string;
}

/** `missing` → 407, `refused` → 401 (both with a Chal); `unsupported` names a scheme we do not do. */
export type CredVerdict = 'ok' | 'missing' | 'refused' | 'unsupported';

export function makeCred(scheme: AuthScheme, who: Credentials, nonce: Uint8Array): Cred {
  let data: string;
  if (scheme === AuthScheme.Basic) data = basicCredential(who.name, who.password);
  else if (scheme === AuthScheme.Md5) data = md5CredentialFromKey(authKey(who.name, who.password), nonce);
  else throw new AuthError(AuthErrorCode.UnsupportedScheme, `${scheme} does not travel in Cred (it is a transport header)`);
  return { meta: { type: scheme, format: 'b64' }, data };
}

export function makeChal(scheme: AuthScheme, nonce: Uint8Array): Chal {
  return { meta: { type: scheme, format: 'b64', nextNonce: nonceToText(nonce) } };
}

/**
 * Checks a Cred from the SyncHdr. `nonces` are tried in order (the current one first, then e.g.
 * the previous one a peer may still hold); `matched` says which one verified.
 */
export function checkCred(
  cred: Cred | undefined,
  expected: Credentials & { readonly scheme: AuthScheme },
  nonces: readonly Uint8Array[] = [],
): { verdict: CredVerdict; matched?: number } {
  if (cred === undefined || cred.data === '') return { verdict: 'missing' };
  // Type defaults to basic when Meta is absent (RepPro); Format b64 is the only one DM uses
  const scheme = cred.meta?.type ?? AuthScheme.Basic;
  if (scheme !== AuthScheme.Basic && scheme !== AuthScheme.Md5) return { verdict: 'unsupported' };
  // a Cred of another scheme than the one asked for is refused: the session keeps one scheme
  if (scheme !== expected.scheme) return { verdict: 'refused' };
  if (scheme === AuthScheme.Basic) {
    return { verdict: sameCredential(cred.data, basicCredential(expected.name, expected.password)) ? 'ok' : 'refused' };
  }
  const key = authKey(expected.name, expected.password);
  for (let i = 0; i < nonces.length; i++) {
    if (sameCredential(cred.data, md5CredentialFromKey(key, nonces[i]!))) return { verdict: 'ok', matched: i };
  }
  return { verdict: 'refused' };
}

/** What a basic credential claims (the user name to look the account up by), or undefined. */
export function basicUserName(cred: Cred): string | undefined {
  const text = Buffer.from(cred.data, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon > 0 ? text.slice(0, colon) : undefined;
}

export type HmacVerdict = 'ok' | 'missing' | 'malformed' | 'unsupported' | 'unknown-user' | 'refused';

/**
 * Checks an x-syncml-hmac header against the exact body bytes. `lookup` gives the credentials for
 * the header's username (undefined when unknown).
 */
export function checkHmac(
  headerValue: string | undefined,
  body: Uint8Array,
  lookup: (username: string) => Credentials | undefined,
  nonces: readonly Uint8Array[],
): { verdict: HmacVerdict; header?: HmacHeader; matched?: number } {
  if (headerValue === undefined || headerValue === '') return { verdict: 'missing' };
  let header: HmacHeader;
  try {
    header = parseHmacHeader(headerValue);
  } catch (err) {
    if (err instanceof AuthError) return { verdict: 'malformed' };
    throw err;
  }
  if (header.algorithm.toUpperCase() !== 'MD5') return { verdict: 'unsupported', header };
  const who = lookup(header.username);
  if (who === undefined) return { verdict: 'unknown-user', header };
  const key = authKey(who.name, who.password);
  const sent = header.mac.replace(/=+$/, '');
  for (let i = 0; i < nonces.length; i++) {
    if (sameCredential(sent, hmacFromKey(key, nonces[i]!, body).replace(/=+$/, ''))) return { verdict: 'ok', header, matched: i };
  }
  return { verdict: 'refused', header };
}
