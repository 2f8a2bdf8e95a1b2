// Listens for Package#0 datagrams; the role decodes and verifies them. Never throws on bad input.
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface NotificationListenerOptions {
  readonly host?: string;
  readonly port?: number;
  readonly onNotification: (bytes: Uint8Array, from: { address: string; port: number }) => void | Promise<void>;
  readonly onError?: (err: unknown) => void;
}

export class NotificationListener {
  private readonly socket: Socket;
  private readonly options: NotificationListenerOptions;

  constructor(options: NotificationListenerOptions) {
    this.options = options;
    this.socket = createSocket({ type: options.host?.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket.on('message', (msg, rinfo) => {
      if (msg.length === 0) return;
      Promise.resolve()
        .then(() => options.onNotification(new Uint8Array(msg), { address: rinfo.address, port: rinfo.port }))
        .catch((err: unknown) => options.onError?.(err));
    });
    this.socket.on('error', (err) => options.onError?.(err));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    const a = this.socket.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
