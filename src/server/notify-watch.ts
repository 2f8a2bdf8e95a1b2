// Package#0 that no session followed. The device keys a notification's digest with the nonce it last
// issued for our Cred, and stores that nonce when it sends it: if we died (or lost the message)
// before storing it too, every Package#0 we key with the old one is ignored. DM 1.2.1 (digest §6.4)
// gives the way back: a digest keyed with the resynchronisation nonce, which every client tries last.
// A device silent for `afterMs` after a Package#0 gets one keyed so, once, without anyone asking; it
// is reported (inventory, API) until it opens a session again. Kept in memory: after a restart the
// first silent Package#0 starts it over.

export interface Silence {
  /** when the first unanswered Package#0 went out */
  readonly since: number;
  /** a Package#0 keyed with the resynchronisation nonce went out since */
  readonly resync: boolean;
}

export class NotifyWatch {
  private readonly silent = new Map<string, Silence>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  readonly afterMs: number;

  constructor(afterMs: number) {
    this.afterMs = afterMs;
  }

  /** Whether the next Package#0 must be keyed with the resync nonce; forgets a device that answered. */
  needsResync(deviceId: string, lastSeen: number | undefined, now: number): boolean {
    const s = this.state(deviceId, lastSeen);
    return s !== undefined && now - s.since >= this.afterMs;
  }

  /**
   * Notes a Package#0 sent; after one keyed with the stored nonce, `again` runs once if the device
   * stays silent for `afterMs` (it checks again whether the device answered meanwhile).
   */
  sent(deviceId: string, resync: boolean, now: number, again: () => Promise<void>): void {
    const s = this.silent.get(deviceId);
    this.silent.set(deviceId, { since: s?.since ?? now, resync: resync || (s?.resync ?? false) });
    if (resync || this.timers.has(deviceId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(deviceId);
      if (this.silent.get(deviceId)?.resync === false) void again().catch(() => undefined);
    }, this.afterMs);
    timer.unref();
    this.timers.set(deviceId, timer);
  }

  /** The device's silence, undefined once a session of it started after the first unanswered Package#0. */
  state(deviceId: string, lastSeen: number | undefined): Silence | undefined {
    const s = this.silent.get(deviceId);
    if (s === undefined || lastSeen === undefined || lastSeen < s.since) return s;
    this.silent.delete(deviceId);
    clearTimeout(this.timers.get(deviceId));
    this.timers.delete(deviceId);
    return undefined;
  }

  /** What an operator is told about a device that stopped answering notifications (undefined: nothing). */
  reason(deviceId: string, lastSeen: number | undefined): string | undefined {
    const s = this.state(deviceId, lastSeen);
    if (s?.resync !== true) return undefined;
    return `no session since Package#0 at ${new Date(s.since).toISOString()}, including one keyed with the resynchronisation nonce`;
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
