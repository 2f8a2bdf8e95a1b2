// The gateway's coaps:// listener: a DTLS server whose PSKs come from a credentials table, and the
// identity → endpoint binding the LwM2M server enforces (docs/lwm2m.md, Security).
import type { SecureListener } from '../adapters/lwm2m/server.ts';
import type { Lwm2mCredentials } from './lwm2m-credentials.ts';
import { createDtlsServer, datagramSocket, type DtlsServer, type SuiteId } from '../transport/dtls/index.ts';

/** What the secured listener asks of the credentials the DM server provisioned (lwm2m-credentials.ts). */
export type PskBook = Pick<Lwm2mCredentials, 'lookupPsk'>;

export interface SecureLwm2m {
  readonly dtls: DtlsServer;
  readonly listener: SecureListener;
  readonly address: string;
}

export async function startSecureLwm2m(o: {
  host: string;
  port: number;
  credentials: PskBook;
  /** the cipher suites offered, in order of preference (default: all, CCM_8 first) */
  suites?: readonly SuiteId[];
  log: (event: string, fields: Record<string, unknown>) => void;
}): Promise<SecureLwm2m> {
  // identities are UTF-8 text in LwM2M (Security object resource 3 holds them as opaque, used as text)
  const dtls = createDtlsServer({
    host: o.host,
    port: o.port,
    psk: (id) => {
      const match = o.credentials.lookupPsk(id.toString('utf8'));
      return match ? Buffer.from(match.key) : undefined;
    },
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
    endpointFor: (identity) => o.credentials.lookupPsk(identity)?.endpoint,
  };
  return { dtls, listener, address: `${a.host}:${a.port}` };
}
