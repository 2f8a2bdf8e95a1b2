// Package#0 over UDP: one datagram per notification (gwmo's IP push; digest §6.5).
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export const DEFAULT_NOTIFY_PORT = 2948; // the WAP push port DM uses over SMS; unprivileged

// one sending socket per address family, shared by every notification (a socket per datagram cost
// more than the send in a 10,000-device fanout); unref'd, so it never keeps the process alive
const senders = new Map<'udp4' | 'udp6', Socket>();

function sender(type: 'udp4' | 'udp6'): Socket {
  let socket = senders.get(type);
  if (!socket) {
    const created = createSocket(type);
    created.unref();
    // a socket that fails is dropped: the next notification gets a new one
    created.on('error', () => {
      if (senders.get(type) === created) senders.delete(type);
      created.close();
    });
    senders.set(type, created);
    socket = created;
  }
  return socket;
}

export async function sendNotification(bytes: Uint8Array, host: string, port: number): Promise<void> {
  const socket = sender(isIPv6(host) ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve())));
}
