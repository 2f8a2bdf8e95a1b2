// A UDP relay between one client and a server, for tests that lose, reorder, rewrite or replay
// datagrams on the path (an attacker or a bad network between real peers).
import { createSocket, type RemoteInfo } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** What goes on, per datagram: the datagrams to forward instead (none: it is lost). */
export type Tamper = (datagram: Buffer, index: number) => Buffer[];

export async function udpRelay(target: { host: string; port: number }, tamper: { toServer?: Tamper; toClient?: Tamper } = {}) {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  await Promise.all([
    new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve)),
    new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve)),
  ]);
  let client: RemoteInfo | undefined;
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  front.on('message', (d, rinfo) => {
    client = rinfo;
    toServer.push(d);
    for (const out of tamper.toServer?.(d, toServer.length - 1) ?? [d]) back.send(out, target.port, target.host);
  });
  back.on('message', (d) => {
    toClient.push(d);
    if (!client) return;
    for (const out of tamper.toClient?.(d, toClient.length - 1) ?? [d]) front.send(out, client.port, client.address);
  });
  return {
    port: (front.address() as AddressInfo).port,
    /** what the client sent, in order */
    toServer,
    toClient,
    /** sends a datagram to the server as if from the client */
    inject(d: Buffer): void {
      back.send(d, target.port, target.host);
    },
    close(): void {
      front.close();
      back.close();
    },
  };
}
