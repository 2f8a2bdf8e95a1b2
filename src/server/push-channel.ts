// The way a DM client with no inbound port (a gateway behind NAT, HLF-001) still gets its Package#0:
// it keeps a long-poll open at GET /push/<DevId> (HTTP basic with its DM credentials); a
// notification for it is answered on that request; 204 after a while, and the client polls again.
// A notification that finds no poll waiting is held (the newest one) until the next poll.
// With several instances on one store (PostgreSQL), the poll is held by one of them: the others
// hand it their Package#0 through the store (PushRelay) instead of falling back to UDP.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { ContentType } from '../protocol/index.ts';
import type { ServerStore } from '../store/server.ts';
import type { DmBasicVerdict } from './dm-basic.ts';

const HOLD_MS = 25_000;
/** a client that polled this recently counts as reachable through the channel */
const FRESH_MS = 60_000;

export class PushChannel {
  private readonly store: ServerStore;
  private readonly waiting = new Map<string, ServerResponse>();
  private readonly held = new Map<string, Uint8Array>();
  private readonly lastPoll = new Map<string, number>();

  private readonly dmBasic: (req: IncomingMessage, deviceId: string) => Promise<DmBasicVerdict>;

  constructor(store: ServerStore, dmBasic: (req: IncomingMessage, deviceId: string) => Promise<DmBasicVerdict>) {
    this.store = store;
    this.dmBasic = dmBasic;
    store.pushRelay?.onPush((deviceId, bytes) => this.pushHere(deviceId, bytes));
  }

  private polledHere(deviceId: string): boolean {
    return this.waiting.has(deviceId) || Date.now() - (this.lastPoll.get(deviceId) ?? 0) < FRESH_MS;
  }

  /** True when the device polls (or polled a moment ago), here or on another instance: notifications go this way. */
  async reachable(deviceId: string): Promise<boolean> {
    return this.polledHere(deviceId) || (await this.store.pushRelay?.holder(deviceId, Date.now() - FRESH_MS)) !== undefined;
  }

  /** Delivers on the poll (here, or relayed to the instance holding it), or holds it for the next one. */
  async push(deviceId: string, bytes: Uint8Array): Promise<'delivered' | 'held' | 'relayed'> {
    if (!this.polledHere(deviceId)) {
      const holder = await this.store.pushRelay?.holder(deviceId, Date.now() - FRESH_MS);
      if (holder !== undefined) {
        await this.store.pushRelay!.send(holder, deviceId, bytes);
        return 'relayed';
      }
    }
    return this.pushHere(deviceId, bytes);
  }

  private pushHere(deviceId: string, bytes: Uint8Array): 'delivered' | 'held' {
    const res = this.waiting.get(deviceId);
    if (res) {
      this.waiting.delete(deviceId);
      res
        .writeHead(200, { 'content-type': ContentType.Notification, 'content-length': bytes.length, 'cache-control': 'no-store' })
        .end(bytes);
      return 'delivered';
    }
    this.held.set(deviceId, bytes);
    return 'held';
  }

  /** GET /push/<DevId> */
  async handle(req: IncomingMessage, res: ServerResponse, deviceId: string): Promise<void> {
    const verdict = await this.dmBasic(req, deviceId);
    if (!verdict.ok) {
      if (verdict.status === 429)
        res
          .writeHead(429, { 'retry-after': String(verdict.retryAfterS), 'content-type': 'text/plain' })
          .end(`too many wrong DM credentials; try again in ${verdict.retryAfterS} s\n`);
      else
        res
          .writeHead(401, { 'www-authenticate': 'Basic realm="gwmo push"', 'content-type': 'text/plain' })
          .end('the DM credentials of this device are needed\n');
      return;
    }
    this.lastPoll.set(deviceId, Date.now());
    await this.store.pushRelay?.polled(deviceId, Date.now()).catch(() => undefined); // the store down: other instances use UDP
    const held = this.held.get(deviceId);
    if (held) {
      this.held.delete(deviceId);
      res
        .writeHead(200, { 'content-type': ContentType.Notification, 'content-length': held.length, 'cache-control': 'no-store' })
        .end(held);
      return;
    }
    this.waiting.get(deviceId)?.writeHead(204).end(); // a newer poll replaces an older one
    this.waiting.set(deviceId, res);
    const timer = setTimeout(() => {
      if (this.waiting.get(deviceId) === res) this.waiting.delete(deviceId);
      res.writeHead(204).end();
    }, HOLD_MS);
    res.on('close', () => {
      clearTimeout(timer);
      if (this.waiting.get(deviceId) === res) this.waiting.delete(deviceId);
    });
  }

  close(): void {
    for (const res of this.waiting.values()) res.writeHead(204).end();
    this.waiting.clear();
  }
}
