// The gateway's coaps:// listener: a DTLS server whose PSKs come from a credentials table, and the
// identity → endpoint binding the LwM2M server enforces (docs/lwm2m.md, Security).
import type { SecureListener } from '../adapters/lwm2m/server.ts';
import { createDtlsServer, datagramSocket, type DtlsServer, type SuiteId } from '../transport/dtls/index.ts';

/** What the secured listener asks about a PSK identity; filled from the DM server (GwMO) or set directly. */
export interface Lwm2mCredentials {
  psk(identity: string): Buffer | undefined | Promise<Buffer | undefined>;
  /** the one endpoint name this identity may register as */
  endpointFor(identity: string): string | undefined;
}

/** Credentials held in memory: what tests, the CLI and the DM-server provisioning write into. */
export class LocalLwm2mCredentials implements Lwm2mCredentials {
  private readonly byIdentity = new Map<string, { key: Buffer; endpoint: string }>();

  set(identity: string, key: Buffer, endpoint: string): void {
    this.byIdentity.set(identity, { key: Buffer.from(key), endpoint });
  }

  delete(identity: string): boolean {
    return this.byIdentity.delete(identity);
  }

  psk(identity: string): Buffer | undefined {
    return this.byIdentity.get(identity)?.key;
  }

  endpointFor(identity: string): string | undefined {
    return this.byIdentity.get(identity)?.endpoint;
  }
}

export interface SecureLwm2m {
  readonly dtls: DtlsServer;
  readonly listener: SecureListener;
  readonly address: string;
}

export async function startSecureLwm2m(o: {
  host: string;
  port: number;
  credentials: Lwm2mCredentials;
  /** the cipher suites offered, in order of preference (default: all, CCM_8 first) */
  suites?: readonly SuiteId[];
  log: (event: string, fields: Record<string, unknown>) => void;
}): Promise<SecureLwm2m> {
  // identities are UTF-8 text in LwM2M (Security object resource 3 holds them as opaque, used as text)
  const dtls = createDtlsServer({
    host: o.host,
    port: o.port,
    psk: (id) => o.credentials.psk(id.toString('utf8')),
    ...(o.suites ? { suites: o.suites } : {}),
  });
  const a = await dtls.listen();
  dtls.on('handshakeFailed', (e: { remote: { address: string; port: number }; identity?: Buffer; reason: string }) =>
    o.log('lwm2m.dtls.failed', {
      address: `${e.remote.address}:${e.remote.port}`,
      ...(e.identity ? { identity: e.identity.toString('utf8').slice(0, 128) } : {}),
      reason: e.reason,
    }),
  );
  const listener: SecureListener = {
    socket: datagramSocket(dtls, { address: a.host, port: a.port, family: 'IPv4' }),
    identity: (address, port) => dtls.connection(address, port)?.identity?.toString('utf8'),
    endpointFor: (identity) => o.credentials.endpointFor(identity),
  };
  return { dtls, listener, address: `${a.host}:${a.port}` };
}
