// Failed logins are rate limited per (user, address) and per address: after a few failures the
// key is locked, for longer after each further failure. The counts are in memory (a restart
// forgets, which only ever helps the legitimate user) or, with instances sharing a database, in
// the store (AuthStore.loginFailures), so a guesser spreading tries over instances gains nothing.
import type { FailureCounts } from '../../store/auth.ts';

const WINDOW_MS = 15 * 60_000;
const MAX_LOCK_MS = 15 * 60_000;
const FIRST_LOCK_MS = 30_000;
const MAX_KEYS = 10_000;

interface Entry {
  failures: number;
  first: number;
  lockedUntil: number;
}

/** The counts of one process. */
class MemoryCounts implements FailureCounts {
  private readonly entries = new Map<string, Entry>();

  async add(key: string, now: number, windowMs: number): Promise<number> {
    let e = this.entries.get(key);
    if (!e || now - e.first > windowMs && e.lockedUntil <= now) {
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

  async clear(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private prune(now: number, windowMs: number): void {
    for (const [key, e] of this.entries) if (now - e.first > windowMs && e.lockedUntil <= now) this.entries.delete(key);
    // still full: an address flood; forget the oldest rather than grow without bound
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_KEYS) break;
      this.entries.delete(key);
    }
  }
}

export class LoginLimiter {
  private readonly counts: FailureCounts;
  private readonly perUser: number;
  private readonly perAddress: number;

  constructor(options: { perUser?: number; perAddress?: number; counts?: FailureCounts } = {}) {
    this.perUser = options.perUser ?? 5;
    this.perAddress = options.perAddress ?? 20;
    this.counts = options.counts ?? new MemoryCounts();
  }

  /** ms until a login may be tried again, 0 when allowed */
  async retryAfter(user: string, address: string, now: number): Promise<number> {
    return Math.max(0, (await this.counts.lockedUntil([`u:${user}|${address}`, `a:${address}`])) - now);
  }

  async failed(user: string, address: string, now: number): Promise<void> {
    await this.count(`u:${user}|${address}`, this.perUser, now);
    await this.count(`a:${address}`, this.perAddress, now);
  }

  async succeeded(user: string, address: string): Promise<void> {
    await this.counts.clear(`u:${user}|${address}`);
  }

  private async count(key: string, limit: number, now: number): Promise<void> {
    const failures = await this.counts.add(key, now, WINDOW_MS);
    if (failures >= limit) await this.counts.lock(key, now + Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (failures - limit)));
  }
}
