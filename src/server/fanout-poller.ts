// One poll loop per watched fanout. Each read of a job's Fanout MO node is a DM Get carried to the
// gateway (queued, Package#0, its session), so watchers of the same (gateway, job) share one loop:
// N watchers cost the gateway what one does. The loop starts with the first watcher, stops when the
// last one leaves, and ends after the job's final state, which every watcher receives.
import { EventEmitter } from 'node:events';

import type { GatewayService, Tree } from './gateways.ts';
import { ServiceError } from './service.ts';

/** Fanout MO State: 30 completed, 40 cancelled, 60 failed (src/gateway/fanout.ts JobState) */
const FINAL_STATES = new Set(['30', '40', '60']);

export function isFinal(job: Tree): boolean {
  return FINAL_STATES.has(String(job['State']));
}

export type FanoutUpdate =
  | { readonly kind: 'job'; readonly job: Tree; readonly final: boolean }
  | { readonly kind: 'error'; readonly message: string };

/** One watcher's share: the job as it was when it joined, then each change, in order. */
export interface FanoutWatch {
  readonly first: Tree;
  /** the next change; undefined once the watch is over (left, or the job ended) */
  next(): Promise<FanoutUpdate | undefined>;
  leave(): void;
}

/** What the pollers report (for tests and logs): which loop, and how many reads it made. */
export interface PollEvent {
  readonly gatewayId: string;
  readonly name: string;
  readonly reads: number;
  readonly watchers: number;
}

class Watcher {
  private readonly queue: FanoutUpdate[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  push(u: FanoutUpdate): void {
    this.queue.push(u);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async next(): Promise<FanoutUpdate | undefined> {
    for (;;) {
      const u = this.queue.shift();
      if (u !== undefined) return u;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

interface Poll {
  readonly gatewayId: string;
  readonly name: string;
  readonly watchers: Set<Watcher>;
  readonly ready: Promise<Tree>;
  latest: Tree | undefined;
  reads: number;
  /** cuts the pause between reads short when the last watcher leaves */
  interrupt: (() => void) | undefined;
}

/**
 * Events: 'started', 'read' (after each read), 'left' (a watcher went), 'stopped' (the loop ended);
 * each with a PollEvent.
 */
export class FanoutPollers extends EventEmitter {
  private readonly gw: GatewayService;
  private readonly pollMs: number;
  private readonly waitMs: number;
  private readonly polls = new Map<string, Poll>();

  constructor(gw: GatewayService, options: { pollMs?: number; waitMs?: number } = {}) {
    super();
    this.gw = gw;
    this.pollMs = options.pollMs ?? 500;
    this.waitMs = options.waitMs ?? 10_000;
  }

  /** watchers of one job now */
  watching(gatewayId: string, name: string): number {
    return this.polls.get(key(gatewayId, name))?.watchers.size ?? 0;
  }

  /** Joins the job's loop (starting it if nobody watches yet); throws 404/504 as the first read does. */
  async watch(gatewayId: string, name: string): Promise<FanoutWatch> {
    const poll = this.polls.get(key(gatewayId, name)) ?? this.start(gatewayId, name);
    const w = new Watcher();
    poll.watchers.add(w);
    const leave = (): void => {
      if (!poll.watchers.delete(w)) return;
      w.close();
      this.emit('left', view(poll));
      if (poll.watchers.size === 0) poll.interrupt?.();
    };
    let first: Tree;
    // a late joiner starts from the latest read, taken in the same tick as it joined: no change is lost or doubled
    if (poll.latest !== undefined) first = poll.latest;
    else {
      try {
        first = await poll.ready;
      } catch (err) {
        leave();
        throw err;
      }
    }
    return { first, next: () => w.next(), leave };
  }

  private start(gatewayId: string, name: string): Poll {
    let settle: { resolve: (t: Tree) => void; reject: (e: unknown) => void } | undefined;
    const ready = new Promise<Tree>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => {}); // a first read that fails is answered to the watchers that await it
    const poll: Poll = { gatewayId, name, watchers: new Set(), ready, latest: undefined, reads: 0, interrupt: undefined };
    this.polls.set(key(gatewayId, name), poll);
    this.emit('started', view(poll));
    void this.run(poll, settle!);
    return poll;
  }

  private async read(poll: Poll): Promise<Tree | undefined> {
    try {
      const r = await this.gw.fanout(poll.gatewayId, poll.name, this.waitMs);
      return r.done ? r.value : undefined;
    } finally {
      poll.reads++;
      this.emit('read', view(poll));
    }
  }

  private async run(poll: Poll, settle: { resolve: (t: Tree) => void; reject: (e: unknown) => void }): Promise<void> {
    try {
      let first: Tree | undefined;
      try {
        first = await this.read(poll);
      } catch (err) {
        settle.reject(err);
        return;
      }
      if (first === undefined) {
        settle.reject(new ServiceError(504, `gateway ${poll.gatewayId} did not answer within ${this.waitMs / 1000} s; try again`));
        return;
      }
      poll.latest = first;
      settle.resolve(first);
      if (isFinal(first)) return;
      let last = JSON.stringify(first);
      while (poll.watchers.size > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.pollMs);
          poll.interrupt = () => {
            clearTimeout(t);
            resolve();
          };
        });
        poll.interrupt = undefined;
        if (poll.watchers.size === 0) break;
        let job: Tree | undefined;
        try {
          job = await this.read(poll);
        } catch (err) {
          // the job was deleted, or the gateway is gone: every watcher is told, and the loop ends
          for (const w of poll.watchers) w.push({ kind: 'error', message: (err as Error).message });
          return;
        }
        if (job === undefined) continue; // the gateway was slow: the Get stays queued, ask again
        const text = JSON.stringify(job);
        const final = isFinal(job);
        if (text !== last || final) {
          last = text;
          poll.latest = job;
          for (const w of poll.watchers) w.push({ kind: 'job', job, final });
        }
        if (final) return;
      }
    } finally {
      this.polls.delete(key(poll.gatewayId, poll.name));
      for (const w of poll.watchers) w.close();
      this.emit('stopped', view(poll));
    }
  }
}

const key = (gatewayId: string, name: string): string => JSON.stringify([gatewayId, name]);
const view = (p: Poll): PollEvent => ({ gatewayId: p.gatewayId, name: p.name, reads: p.reads, watchers: p.watchers.size });
