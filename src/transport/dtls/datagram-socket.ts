// The clear side of DTLS shaped like a dgram socket, so code written against one (the CoAP
// library's server and agent) runs over DTLS unchanged: 'message' carries what an association
// decrypted, send() encrypts for the association of the address it names.
import { type RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

import type { DtlsConnection } from './connection.ts';
import type { DtlsServer } from './server.ts';

type SendCallback = (err: Error | null, bytes?: number) => void;

function fakeSocket(address: AddressInfo, to: (host: string, port: number) => DtlsConnection | undefined, closed: () => void): Socket {
  // node-coap checks `instanceof dgram.Socket` before some sends (its duplicate-request cache)
  const socket = Object.create(Socket.prototype) as Socket;
  EventEmitter.call(socket);
  Object.assign(socket, {
    type: 'udp4',
    address: () => address,
    send(msg: Buffer, ...rest: unknown[]): void {
      // (msg, offset, length, port, address, cb) or (msg, port, address, cb)
      const long = typeof rest[1] === 'number';
      const [offset, length, port, host, cb] = long
        ? (rest as [number, number, number, string, SendCallback?])
        : ([0, msg.length, ...rest] as [number, number, number, string, SendCallback?]);
      const conn = to(host, port);
      try {
        if (!conn) throw new Error(`no DTLS association with ${host}:${port}`);
        conn.send(msg.subarray(offset, offset + length));
        if (cb) queueMicrotask(() => cb(null, length));
      } catch (err) {
        if (cb) queueMicrotask(() => cb(err as Error));
      }
    },
    close(cb?: () => void): void {
      closed();
      if (cb) queueMicrotask(cb);
    },
    ref: () => socket,
    unref: () => socket,
  });
  return socket;
}

function relay(socket: Socket, conn: DtlsConnection): () => void {
  const rinfo: RemoteInfo = { address: conn.remote.address, port: conn.remote.port, family: 'IPv4', size: 0 };
  const on = (m: Buffer): void => void socket.emit('message', m, { ...rinfo, size: m.length });
  conn.on('message', on);
  return () => conn.off('message', on);
}

/** The server side: every association the server completes speaks through it. */
export function datagramSocket(server: DtlsServer, address: AddressInfo): Socket {
  const attach = (conn: DtlsConnection): void => void relay(socket, conn);
  const socket = fakeSocket(
    address,
    (host, port) => server.connection(host, port),
    () => server.off('connection', attach),
  );
  server.on('connection', attach);
  return socket;
}

/** The client side: one association, whatever address a send names. */
export function connectionSocket(conn: DtlsConnection, local: AddressInfo): Socket {
  let detach = (): void => {};
  const socket = fakeSocket(
    local,
    () => conn,
    () => {
      detach();
      conn.close();
    },
  );
  detach = relay(socket, conn);
  return socket;
}
