// Failed logins are rate limited per (user, address) and per address: after a few failures the
// key is locked, for longer after each further failure (the logic is the DM endpoint's too:
// src/server/failure-limiter.ts).
import { FailureLimiter } from '../../server/failure-limiter.ts';
import type { FailureCounts } from '../../store/auth.ts';

export class LoginLimiter {
  private readonly limiter: FailureLimiter;
  private readonly perUser: number;
  private readonly perAddress: number;

  constructor(options: { perUser?: number; perAddress?: number; counts?: FailureCounts } = {}) {
    this.perUser = options.perUser ?? 5;
    this.perAddress = options.perAddress ?? 20;
    this.limiter = new FailureLimiter(options.counts);
  }

  /** ms until a login may be tried again, 0 when allowed */
  async retryAfter(user: string, address: string, now: number): Promise<number> {
    return this.limiter.retryAfter([`u:${user}|${address}`, `a:${address}`], now);
  }

  async failed(user: string, address: string, now: number): Promise<void> {
    await this.limiter.failed(
      [
        { key: `u:${user}|${address}`, limit: this.perUser },
        { key: `a:${address}`, limit: this.perAddress },
      ],
      now,
    );
  }

  async succeeded(user: string, address: string): Promise<void> {
    await this.limiter.clear(`u:${user}|${address}`);
  }
}
