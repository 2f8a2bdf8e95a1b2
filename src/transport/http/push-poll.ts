// The client end of a server's push channel: one long-poll GET after another; a 200 carries a
// Package#0, a 204 means "nothing yet". Connection failures back off (1 s doubling to 30 s) and
// recover on their own, so a client behind NAT keeps its one outbound path open.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PushPollOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly onNotification: (bytes: Uint8Array) => void | Promise<void>;
  readonly onState?: (state: 'connected' | 'retrying', detail?: string) => void;
  readonly maxBackoffMs?: number;
}

export class PushPoller {
  private readonly o: PushPollOptions;
  private stopped = false;
  private current: { destroy(): void } | undefined;
  private wake: (() => void) | undefined;
  private connected = false;

  constructor(options: PushPollOptions) {
    this.o = options;
  }

  start(): void {
    void this.loop();
  }

  private async loop(): Promise<void> {
    let backoff = 1000;
    while (!this.stopped) {
      try {
        const bytes = await this.poll(() => {
          backoff = 1000;
          if (!this.connected) this.o.onState?.('connected');
          this.connected = true;
        });
        if (bytes) await this.o.onNotification(bytes);
      } catch (err) {
        if (this.stopped) return;
        this.connected = false;
        this.o.onState?.('retrying', `${(err as Error).message}; next try in ${backoff} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, backoff);
          this.wake = () => (clearTimeout(t), resolve());
        });
        backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 30_000);
      }
    }
  }

  /** One long-poll; `onConnect` once the connection to the server stands (the answer may take long). */
  private poll(onConnect: () => void): Promise<Uint8Array | undefined> {
    const u = new URL(this.o.url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        u,
        {
          method: 'GET',
          timeout: 60_000,
          headers: { authorization: `Basic ${Buffer.from(`${this.o.username}:${this.o.password}`).toString('base64')}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode === 204) resolve(undefined);
            else if (res.statusCode === 200) resolve(new Uint8Array(Buffer.concat(chunks)));
            else reject(new Error(`push channel ${this.o.url} answered HTTP ${res.statusCode}`));
          });
        },
      );
      req.on('socket', (socket) => socket.once('connect', onConnect));
      req.on('timeout', () => req.destroy(new Error('push channel timed out')));
      req.on('error', reject);
      this.current = req;
      req.end();
    });
  }

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
    this.wake?.();
  }
}
