// What the gateway's LwM2M bootstrap server gives an endpoint (docs/lwm2m.md "Bootstrap"), from the
// credentials the DM server provisioned: one server account, pointing at this gateway's LwM2M
// server (HLF-005's counterpart) or at the LwM2M server the DM server named (HLF-006's), with the
// device's own PSK. Keys never travel over plain CoAP: an endpoint with a bootstrap key or a PSK
// bootstraps over DTLS only, and a DTLS peer only as the endpoint its bootstrap identity names.
import { type BootstrapDecision, type BootstrapPeer, SecurityMode, type ServerAccount } from '../adapters/lwm2m/bootstrap.ts';
import type { Lwm2mCredentials } from './lwm2m-credentials.ts';

export interface BootstrapTargets {
  /** coap://host:port of this gateway's plain LwM2M listener, if it has one */
  readonly plain?: string;
  /** coaps://host:port of its secured listener, if it has one */
  readonly secure?: string;
  readonly lifetimeS?: number;
}

/** the Short Server ID of the one account the bootstrap writes */
export const BOOTSTRAP_SSID = 1;

export function bootstrapDecision(
  creds: Lwm2mCredentials,
  endpoint: string,
  peer: BootstrapPeer,
  targets: BootstrapTargets,
  refuse: (why: string) => void,
): BootstrapDecision {
  const c = creds.get(endpoint);
  if (!c) return 'unknown';
  if (peer.identity !== undefined) {
    // RFC 4279 identity → endpoint: a device's bootstrap key opens its own configuration only
    if (creds.lookupBootstrapPsk(peer.identity)?.endpoint !== endpoint) {
      refuse(`bootstrap identity ${JSON.stringify(peer.identity)} is not ${JSON.stringify(endpoint)}'s`);
      return 'refused';
    }
  } else if (c.bootstrap?.key || c.psk?.key) {
    refuse('this endpoint bootstraps over DTLS (it has a bootstrap key or a PSK)');
    return 'refused';
  }
  const psk = c.psk?.key ? c.psk : undefined;
  const uri = c.serverUri || (psk ? targets.secure : targets.plain);
  if (!uri) {
    refuse(psk ? 'no secured LwM2M listener on this gateway to send a PSK device to' : 'no plain LwM2M listener on this gateway');
    return 'refused';
  }
  if (psk && !uri.startsWith('coaps:')) {
    refuse(`its PSK would go to ${uri} in the clear`);
    return 'refused';
  }
  if (!psk && c.publicKey) {
    refuse('RPK devices keep their factory keys: bootstrap does not write them');
    return 'refused';
  }
  const account: ServerAccount = {
    uri,
    securityMode: psk ? SecurityMode.Psk : SecurityMode.NoSec,
    ...(psk ? { identity: new TextEncoder().encode(psk.identity), secretKey: new Uint8Array(Buffer.from(psk.key, 'hex')) } : {}),
    shortServerId: BOOTSTRAP_SSID,
    lifetimeS: targets.lifetimeS ?? 300,
    binding: 'U',
  };
  return { accounts: [account] };
}
