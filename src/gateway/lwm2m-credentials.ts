// LwM2M credentials the DM server provisioned for devices behind this gateway (./GwMO/LwM2MCredentials,
// docs/lwm2m.md "Security"): per endpoint its PSK identity and key or its public key, its bootstrap
// PSK and bootstrap target. The secured listeners ask it which key an identity holds; keys are kept
// in the gateway's store as the DM account secrets are, and never read back through the tree.
import type { GatewayStore } from '../store/gateway.ts';

export const CREDENTIALS_PREFIX = 'lwm2m-cred/';

export interface Psk {
  readonly identity: string;
  /** hex */
  readonly key: string;
}

export interface Lwm2mCredential {
  readonly endpoint: string;
  /** PSK mode: what the device registers with */
  readonly psk?: Psk;
  /** a rotation's old key: accepted until the device completes a handshake with the new one */
  readonly previous?: Psk;
  /** RPK mode: the device's public key, SubjectPublicKeyInfo DER in base64 */
  readonly publicKey?: string;
  /** the key of the device's bootstrap account (per device) */
  readonly bootstrap?: Psk;
  /** HLF-006's counterpart: bootstrap the device to this LwM2M server instead of this gateway */
  readonly serverUri?: string;
  /** the PSK came from --lwm2m-psk-file: a later start may change it; once the DM server sets it, the server's stays */
  readonly local?: boolean;
}

/** What a secured listener needs to finish a PSK handshake (RFC 4279 §2) and bind the peer to an endpoint. */
export interface PskMatch {
  readonly endpoint: string;
  readonly key: Uint8Array;
  /** the same identity's key before a rotation: try it when the handshake fails with `key` */
  readonly previousKey?: Uint8Array;
}

export class Lwm2mCredentials {
  private readonly store: GatewayStore;
  private readonly entries = new Map<string, Lwm2mCredential>();
  /** PSK identity → endpoint, for the registration listener (current and previous identities) */
  private readonly byIdentity = new Map<string, string>();
  private readonly byBootstrapIdentity = new Map<string, string>();
  private readonly byPublicKey = new Map<string, string>();
  private readonly log: (event: string, fields: Record<string, unknown>) => void;

  constructor(store: GatewayStore, log: (event: string, fields: Record<string, unknown>) => void = () => {}) {
    this.store = store;
    this.log = log;
    for (const [, text] of store.listConfig(CREDENTIALS_PREFIX)) this.index(JSON.parse(text) as Lwm2mCredential);
  }

  private index(c: Lwm2mCredential): void {
    this.entries.set(c.endpoint, c);
    if (c.psk) this.byIdentity.set(c.psk.identity, c.endpoint);
    if (c.previous) this.byIdentity.set(c.previous.identity, c.endpoint);
    if (c.bootstrap) this.byBootstrapIdentity.set(c.bootstrap.identity, c.endpoint);
    if (c.publicKey) this.byPublicKey.set(c.publicKey, c.endpoint);
  }

  private unindex(c: Lwm2mCredential): void {
    for (const [map, key] of [
      [this.byIdentity, c.psk?.identity],
      [this.byIdentity, c.previous?.identity],
      [this.byBootstrapIdentity, c.bootstrap?.identity],
      [this.byPublicKey, c.publicKey],
    ] as const)
      if (key !== undefined && map.get(key) === c.endpoint) map.delete(key);
    this.entries.delete(c.endpoint);
  }

  get(endpoint: string): Lwm2mCredential | undefined {
    return this.entries.get(endpoint);
  }

  list(): Lwm2mCredential[] {
    return [...this.entries.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }

  /** Creates an empty entry; false when it exists. */
  create(endpoint: string): boolean {
    if (this.entries.has(endpoint)) return false;
    this.save({ endpoint });
    return true;
  }

  /**
   * Sets fields of an entry. A new PSK key replaces the current one, which stays as `previous`
   * until the device proves the new one (proved()); an identity another endpoint holds is refused.
   */
  update(
    endpoint: string,
    patch: { identity?: string; key?: string; publicKey?: string; bootstrap?: Partial<Psk>; serverUri?: string },
  ): 'ok' | 'taken' | 'missing' {
    const c = this.entries.get(endpoint);
    if (!c) return 'missing';
    const holder = (map: Map<string, string>, key: string | undefined): boolean =>
      key !== undefined && map.has(key) && map.get(key) !== endpoint;
    if (holder(this.byIdentity, patch.identity) || holder(this.byBootstrapIdentity, patch.bootstrap?.identity)) return 'taken';
    if (holder(this.byPublicKey, patch.publicKey)) return 'taken';
    // the DM server's word from now on: a restart with --lwm2m-psk-file no longer sets this endpoint's key back
    const { local: _local, ...rest } = c;
    let next: Lwm2mCredential = rest;
    if (patch.identity !== undefined || patch.key !== undefined) {
      const psk = { identity: patch.identity ?? c.psk?.identity ?? '', key: patch.key ?? c.psk?.key ?? '' };
      // a key replaced before the device used it is gone for good: only the pair in use is kept as previous
      const rotated = c.psk && c.psk.key !== '' && c.psk.identity !== '' && (psk.key !== c.psk.key || psk.identity !== c.psk.identity);
      next = { ...next, psk, ...(rotated ? { previous: c.previous ?? c.psk } : {}) };
    }
    if (patch.publicKey !== undefined) next = { ...next, publicKey: patch.publicKey };
    if (patch.bootstrap) {
      next = {
        ...next,
        bootstrap: {
          identity: patch.bootstrap.identity ?? c.bootstrap?.identity ?? '',
          key: patch.bootstrap.key ?? c.bootstrap?.key ?? '',
        },
      };
    }
    if (patch.serverUri !== undefined) next = { ...next, serverUri: patch.serverUri };
    this.unindex(c);
    this.save(next);
    return 'ok';
  }

  /**
   * A --lwm2m-psk-file line at start: sets the key unless the DM server has set this endpoint's PSK
   * since ('kept': the file is older than the server's rotation, and would undo it at every restart).
   */
  seedLocal(endpoint: string, psk: Psk): 'ok' | 'taken' | 'kept' {
    const c = this.entries.get(endpoint);
    if (c?.psk && c.local !== true) return 'kept';
    const created = this.create(endpoint);
    const r = this.update(endpoint, psk);
    if (r === 'ok') this.save({ ...this.entries.get(endpoint)!, local: true });
    else if (created) this.remove(endpoint);
    return r === 'missing' ? 'taken' : r;
  }

  remove(endpoint: string): boolean {
    const c = this.entries.get(endpoint);
    if (!c) return false;
    this.unindex(c);
    this.store.deleteConfig(CREDENTIALS_PREFIX + endpoint);
    return true;
  }

  private save(c: Lwm2mCredential): void {
    this.store.setConfig(CREDENTIALS_PREFIX + c.endpoint, JSON.stringify(c));
    this.index(c);
  }

  /** The registration listener's PSK lookup: the key for this identity and the endpoint it may register as. */
  lookupPsk(identity: string): PskMatch | undefined {
    const endpoint = this.byIdentity.get(identity);
    const c = endpoint !== undefined ? this.entries.get(endpoint) : undefined;
    if (!c) return undefined;
    const current = c.psk && c.psk.identity === identity && c.psk.key !== '' ? c.psk : undefined;
    const previous = c.previous?.identity === identity ? c.previous : undefined;
    const first = current ?? previous;
    if (!first) return undefined;
    const previousKey = current && previous ? { previousKey: Buffer.from(previous.key, 'hex') } : {};
    return { endpoint: c.endpoint, key: Buffer.from(first.key, 'hex'), ...previousKey };
  }

  /** The bootstrap listener's PSK lookup (a device's bootstrap account). */
  lookupBootstrapPsk(identity: string): PskMatch | undefined {
    const endpoint = this.byBootstrapIdentity.get(identity);
    const b = endpoint !== undefined ? this.entries.get(endpoint)?.bootstrap : undefined;
    return b && b.key !== '' ? { endpoint: endpoint!, key: Buffer.from(b.key, 'hex') } : undefined;
  }

  /** RPK mode: the endpoint that may register with this public key (SPKI DER). */
  lookupPublicKey(spki: Uint8Array): string | undefined {
    return this.byPublicKey.get(Buffer.from(spki).toString('base64'));
  }

  /**
   * A handshake completed with `key` for `identity`. The rotation rule: once the device used its
   * new key, the old one is dropped and refused from then on; a handshake with the old key changes nothing.
   * Returns the old key's identity when it was dropped (its sessions are to end).
   */
  proved(identity: string, key: Uint8Array): string | undefined {
    const endpoint = this.byIdentity.get(identity);
    const c = endpoint !== undefined ? this.entries.get(endpoint) : undefined;
    if (!c?.previous || !c.psk || c.psk.identity !== identity || Buffer.from(key).toString('hex') !== c.psk.key) return undefined;
    const { previous, ...rest } = c;
    this.unindex(c);
    this.save(rest);
    this.log('lwm2m.credentials.rotated', { endpoint: c.endpoint, identity });
    return previous.identity;
  }
}
