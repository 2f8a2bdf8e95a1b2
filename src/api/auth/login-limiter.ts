// Failed logins are rate limited per (user, address) and per address: after a few failures the
// key is locked, for longer after each further failure. In memory: a restart forgets, which only
// ever helps the legitimate user.
const WINDOW_MS = 15 * 60_000;
const MAX_LOCK_MS = 15 * 60_000;
const FIRST_LOCK_MS = 30_000;
const MAX_KEYS = 10_000;

interface Entry {
  failures: number;
  first: number;
  lockedUntil: number;
}

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly perUser: number;
  private readonly perAddress: number;

  constructor(options: { perUser?: number; perAddress?: number } = {}) {
    this.perUser = options.perUser ?? 5;
    this.perAddress = options.perAddress ?? 20;
  }

  /** ms until a login may be tried again, 0 when allowed */
  retryAfter(user: string, address: string, now: number): number {
    let wait = 0;
    for (const key of [`u:${user}|${address}`, `a:${address}`]) {
      const e = this.entries.get(key);
      if (e && e.lockedUntil > now) wait = Math.max(wait, e.lockedUntil - now);
    }
    return wait;
  }

  failed(user: string, address: string, now: number): void {
    this.count(`u:${user}|${address}`, this.perUser, now);
    this.count(`a:${address}`, this.perAddress, now);
  }

  succeeded(user: string, address: string): void {
    this.entries.delete(`u:${user}|${address}`);
  }

  private count(key: string, limit: number, now: number): void {
    let e = this.entries.get(key);
    if (!e || now - e.first > WINDOW_MS && e.lockedUntil <= now) {
      if (this.entries.size >= MAX_KEYS) this.prune(now);
      e = { failures: 0, first: now, lockedUntil: 0 };
      this.entries.set(key, e);
    }
    e.failures++;
    if (e.failures >= limit) e.lockedUntil = now + Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (e.failures - limit));
  }

  private prune(now: number): void {
    for (const [key, e] of this.entries) if (now - e.first > WINDOW_MS && e.lockedUntil <= now) this.entries.delete(key);
    // still full: an address flood; forget the oldest rather than grow without bound
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_KEYS) break;
      this.entries.delete(key);
    }
  }
}
