// Package#0 over UDP: one datagram per notification (gwmo's IP push; digest §6.5).
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export const DEFAULT_NOTIFY_PORT = 2948; // the WAP push port DM uses over SMS; unprivileged

export async function sendNotification(bytes: Uint8Array, host: string, port: number): Promise<void> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve())));
  } finally {
    socket.close();
  }
}
