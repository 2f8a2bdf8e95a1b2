// The gateway's coaps:// listener: a DTLS server whose PSKs come from a credentials table, and the
// identity → endpoint binding the LwM2M server enforces (docs/lwm2m.md, Security).
import type { Socket } from 'node:dgram';

import type { SecureListener } from '../adapters/lwm2m/server.ts';
import type { Lwm2mCredentials, PskMatch } from './lwm2m-credentials.ts';
import { createDtlsServer, datagramSocket, type DtlsServer, type ServerConnection, type SuiteId } from '../transport/dtls/index.ts';

/** What the secured listener asks of the credentials the DM server provisioned (lwm2m-credentials.ts). */
export type PskBook = Pick<Lwm2mCredentials, 'lookupPsk' | 'proved'>;

export interface SecureLwm2m {
  readonly dtls: DtlsServer;
  readonly listener: SecureListener;
  readonly address: string;
}

interface DtlsListener {
  readonly dtls: DtlsServer;
  /** the clear side, for node-coap */
  readonly socket: Socket;
  readonly address: string;
  /** the PSK identity a peer completed its handshake with */
  identity(address: string, port: number): string | undefined;
}

/**
 * A DTLS server whose PSKs come from `lookup`: its key, then a rotation's previous key, so a
 * device still holding the old one gets in until it used the new one (docs/lwm2m.md, Rotation).
 */
async function startDtls(o: {
  host: string;
  port: number;
  lookup: (identity: string) => PskMatch | undefined;
  suites?: readonly SuiteId[];
  log: (event: string, fields: Record<string, unknown>) => void;
}): Promise<DtlsListener> {
  // identities are UTF-8 text in LwM2M (Security object resource 3 holds them as opaque, used as text)
  const dtls = createDtlsServer({
    host: o.host,
    port: o.port,
    psk: (id) => {
      const match = o.lookup(id.toString('utf8'));
      if (!match) return undefined;
      return match.previousKey ? [Buffer.from(match.key), Buffer.from(match.previousKey)] : Buffer.from(match.key);
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
  return {
    dtls,
    socket: datagramSocket(dtls, { address: a.host, port: a.port, family: 'IPv4' }),
    address: `${a.host}:${a.port}`,
    identity: (address, port) => dtls.connection(address, port)?.identity?.toString('utf8'),
  };
}

/** The registration listener (coaps://): keys from lookupPsk, the identity decides the endpoint. */
export async function startSecureLwm2m(o: {
  host: string;
  port: number;
  credentials: PskBook;
  /** the cipher suites offered, in order of preference (default: all, CCM_8 first) */
  suites?: readonly SuiteId[];
  log: (event: string, fields: Record<string, unknown>) => void;
}): Promise<SecureLwm2m> {
  const d = await startDtls({ ...o, lookup: (id) => o.credentials.lookupPsk(id) });
  // the rotation rule: a full handshake with the first candidate (the current key) drops the old key,
  // and what still runs on it ends (associations and cached sessions), all but this association
  d.dtls.on('connection', (conn: ServerConnection) => {
    if (conn.resumed || conn.candidate !== 0 || !conn.identity) return;
    const identity = conn.identity.toString('utf8');
    const match = o.credentials.lookupPsk(identity);
    const dropped = match ? o.credentials.proved(identity, match.key) : undefined;
    if (dropped !== undefined) d.dtls.forget(Buffer.from(dropped), conn);
  });
  const listener: SecureListener = {
    socket: d.socket,
    identity: d.identity,
    endpointFor: (identity) => o.credentials.lookupPsk(identity)?.endpoint,
  };
  return { dtls: d.dtls, listener, address: d.address };
}

/** The bootstrap listener (coaps://): each device's bootstrap PSK (lookupBootstrapPsk). */
export function startSecureBootstrap(o: {
  host: string;
  port: number;
  credentials: Pick<Lwm2mCredentials, 'lookupBootstrapPsk'>;
  log: (event: string, fields: Record<string, unknown>) => void;
}): Promise<DtlsListener> {
  return startDtls({ ...o, lookup: (id) => o.credentials.lookupBootstrapPsk(id) });
}
