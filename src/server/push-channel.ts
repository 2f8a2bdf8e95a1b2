// The way a DM client with no inbound port (a gateway behind NAT, HLF-001) still gets its Package#0:
// it keeps a long-poll open at GET /push/<DevId> (HTTP basic with its DM credentials); a
// notification for it is answered on that request; 204 after a while, and the client polls again.
// A notification that finds no poll waiting is held (the newest one) until the next poll.
// With several instances on one store (PostgreSQL), the open poll is held by one of them, and the
// store knows which (set when it opens, cleared when it ends): the others hand that one their
// Package#0 (PushRelay), and while no poll is open it is kept in the store for the next poll,
// whichever instance the load balancer sends it to. Having seen a poll lately decides nothing:
// behind round-robin every instance has.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { ContentType } from '../protocol/index.ts';
import type { ServerStore } from '../store/server.ts';
import type { DmBasicVerdict } from './dm-basic.ts';

const HOLD_MS = 25_000;

/** a poll waiting here, and when it opened (the store's record of it) */
interface Poll {
  readonly res: ServerResponse;
  readonly since: number;
  /** the store's record of it is written */
  readonly recorded: Promise<unknown>;
}
/** a client that polled this recently counts as reachable through the channel */
const FRESH_MS = 60_000;

export class PushChannel {
  private readonly store: ServerStore;
  private readonly waiting = new Map<string, Poll>();
  private readonly held = new Map<string, Uint8Array>();
  private readonly lastPoll = new Map<string, number>();

  private readonly dmBasic: (req: IncomingMessage, deviceId: string) => Promise<DmBasicVerdict>;

  constructor(store: ServerStore, dmBasic: (req: IncomingMessage, deviceId: string) => Promise<DmBasicVerdict>) {
    this.store = store;
    this.dmBasic = dmBasic;
    store.pushRelay?.onPush((deviceId, bytes) => void this.push(deviceId, bytes).catch(() => undefined));
  }

  private polledHere(deviceId: string): boolean {
    return this.waiting.has(deviceId) || Date.now() - (this.lastPoll.get(deviceId) ?? 0) < FRESH_MS;
  }

  /** True when the device polls (or polled a moment ago), here or on another instance: notifications go this way. */
  async reachable(deviceId: string): Promise<boolean> {
    return this.polledHere(deviceId) || (await this.store.pushRelay?.holder(deviceId, Date.now() - FRESH_MS)) !== undefined;
  }

  /**
   * Delivers on the poll open here, or relays to the instance holding the open poll, or keeps it for
   * the next poll (in the store when there is one to share). A Package#0 relayed here after the poll
   * moved on goes on to where it is now; one row per device holds where, so it cannot go round.
   */
  async push(deviceId: string, bytes: Uint8Array): Promise<'delivered' | 'held' | 'relayed'> {
    if (this.waiting.has(deviceId)) return this.deliver(deviceId, bytes);
    const relay = this.store.pushRelay;
    if (!relay) {
      this.held.set(deviceId, bytes);
      return 'held';
    }
    const holder = await relay.offer(deviceId, bytes);
    if (holder === undefined) return 'held';
    if (holder === 'self') {
      // the poll opened here while the store was asked
      if (this.waiting.has(deviceId)) return this.deliver(deviceId, bytes);
      this.held.set(deviceId, bytes);
      return 'held';
    }
    await relay.send(holder, deviceId, bytes);
    return 'relayed';
  }

  private deliver(deviceId: string, bytes: Uint8Array): 'delivered' {
    const poll = this.waiting.get(deviceId)!;
    this.waiting.delete(deviceId);
    this.ended(deviceId, poll);
    poll.res
      .writeHead(200, { 'content-type': ContentType.Notification, 'content-length': bytes.length, 'cache-control': 'no-store' })
      .end(bytes);
    return 'delivered';
  }

  /** the store forgets the open poll (unless a newer one replaced it), after it recorded it */
  private ended(deviceId: string, poll: Poll): void {
    const relay = this.store.pushRelay;
    if (relay) void poll.recorded.then(() => relay.closed(deviceId, poll.since)).catch(() => undefined);
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
    const since = Date.now();
    this.lastPoll.set(deviceId, since);
    // a newer poll replaces an older one: answered first, so it is not taken for the open one
    const older = this.waiting.get(deviceId);
    this.waiting.delete(deviceId);
    older?.res.writeHead(204).end();
    // the store down: other instances use UDP
    const opened = this.store.pushRelay?.opened(deviceId, since).catch(() => undefined);
    const poll: Poll = { res, since, recorded: opened ?? Promise.resolve(undefined) };
    this.waiting.set(deviceId, poll);
    const shared = await opened;
    const held = shared ?? this.held.get(deviceId);
    this.held.delete(deviceId);
    if (this.waiting.get(deviceId) !== poll) {
      // answered (or replaced by a newer poll) while the store was asked: what was kept goes to the newer one
      if (held) void this.push(deviceId, held).catch(() => undefined);
      return;
    }
    if (held) {
      this.deliver(deviceId, held);
      return;
    }
    const timer = setTimeout(() => {
      if (this.waiting.get(deviceId) !== poll) return;
      this.waiting.delete(deviceId);
      this.ended(deviceId, poll);
      res.writeHead(204).end();
    }, HOLD_MS);
    res.on('close', () => {
      clearTimeout(timer);
      if (this.waiting.get(deviceId) !== poll) return;
      this.waiting.delete(deviceId);
      this.ended(deviceId, poll);
    });
  }

  close(): void {
    for (const [deviceId, poll] of this.waiting) {
      this.ended(deviceId, poll);
      poll.res.writeHead(204).end();
    }
    this.waiting.clear();
  }
}
