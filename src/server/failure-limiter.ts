// Failed attempts counted per key (a user at an address, a device at an address, an address): after
// a few failures within a window a key is locked, for longer after each further failure. One logic
// for the API's logins and the DM endpoint's device authentications. The counts are in memory (a
// restart forgets, which only ever helps the legitimate party) or, with instances sharing a database,
// in the store (FailureCounts), so a guesser spreading tries over instances gains nothing.
import type { FailureCounts } from '../store/auth.ts';

export interface LockPolicy {
  /** failures further apart than this start a new count */
  readonly windowMs: number;
  readonly firstLockMs: number;
  readonly maxLockMs: number;
}

export const DEFAULT_POLICY: LockPolicy = { windowMs: 15 * 60_000, firstLockMs: 30_000, maxLockMs: 15 * 60_000 };
const MAX_KEYS = 10_000;

interface Entry {
  failures: number;
  first: number;
  lockedUntil: number;
}

/** The counts of one process, bounded in keys (an address flood forgets the oldest). */
export class MemoryFailureCounts implements FailureCounts {
  private readonly entries = new Map<string, Entry>();

  async add(key: string, now: number, windowMs: number): Promise<number> {
    let e = this.entries.get(key);
    if (!e || (now - e.first > windowMs && e.lockedUntil <= now)) {
      if (this.entries.size >= MAX_KEYS) this.prune(now, windowMs);
      e = { failures: 0, first: now, lockedUntil: 0 };
      this.entries.set(key, e);
    }
    return ++e.failures;
  }

  async lock(key: string, until: number): Promise<void> {
    const e = this.entries.get(key);
    if (e) e.lockedUntil = Math.max(e.lockedUntil, until);
  }

  async lockedUntil(keys: readonly string[]): Promise<number> {
    return Math.max(0, ...keys.map((k) => this.entries.get(k)?.lockedUntil ?? 0));
  }

  async get(key: string, now: number, windowMs: number): Promise<{ failures: number; lockedUntil: number } | undefined> {
    const e = this.entries.get(key);
    if (!e || (now - e.first > windowMs && e.lockedUntil <= now)) return undefined;
    return { failures: e.failures, lockedUntil: e.lockedUntil };
  }

  async clear(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private prune(now: number, windowMs: number): void {
    for (const [key, e] of this.entries) if (now - e.first > windowMs && e.lockedUntil <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_KEYS) break;
      this.entries.delete(key);
    }
  }
}

export interface CountedKey {
  readonly key: string;
  /** failures within the window that lock the key */
  readonly limit: number;
}

export class FailureLimiter {
  readonly counts: FailureCounts;
  readonly policy: LockPolicy;

  constructor(counts: FailureCounts = new MemoryFailureCounts(), policy: LockPolicy = DEFAULT_POLICY) {
    this.counts = counts;
    this.policy = policy;
  }

  /** ms until any of the keys may be tried again, 0 when none is locked */
  async retryAfter(keys: readonly string[], now: number): Promise<number> {
    return Math.max(0, (await this.counts.lockedUntil(keys)) - now);
  }

  /** One more failure on each key; the failures counted per key and the locks this one set. */
  async failed(keys: readonly CountedKey[], now: number): Promise<{ key: string; failures: number; lockedUntil?: number }[]> {
    const out: { key: string; failures: number; lockedUntil?: number }[] = [];
    for (const { key, limit } of keys) {
      const failures = await this.counts.add(key, now, this.policy.windowMs);
      if (failures < limit) {
        out.push({ key, failures });
        continue;
      }
      const until = now + Math.min(this.policy.maxLockMs, this.policy.firstLockMs * 2 ** Math.min(30, failures - limit));
      await this.counts.lock(key, until);
      out.push({ key, failures, lockedUntil: until });
    }
    return out;
  }

  async clear(key: string): Promise<void> {
    await this.counts.clear(key);
  }
}
