// Failed DM authentications counted across sessions, per device id at an address and per address
// (a new Alert 1201 used to start a fresh three-strike count, so guessing was free). The counts are
// the API login limiter's (FailureCounts, shared by every instance on PostgreSQL), under keys of
// their own (`dm:`). What a guesser meets: answers slower from the second wrong guess, then a lock
// that doubles; a locked device id or address is answered 429 before anything else is read.
import { setTimeout as sleep } from 'node:timers/promises';

import { AuthScheme } from '../protocol/index.ts';
import type { Clock } from '../session/clock.ts';
import type { AuthFailure, AuthGuard } from '../session/server/index.ts';
import type { FailureCounts } from '../store/auth.ts';
import { DEFAULT_POLICY, FailureLimiter, type LockPolicy } from './failure-limiter.ts';
import type { DmMetrics } from './metrics.ts';

export interface DmAuthLimits {
  /** wrong credentials for one device id from one address before it is locked there (default 5) */
  readonly perDevice?: number;
  /** wrong credentials from one address, any device id, before the address is locked (default 50) */
  readonly perAddress?: number;
  /** the delay of the answer to the second wrong guess, doubling up to maxDelayMs (default 250) */
  readonly delayMs?: number;
  readonly maxDelayMs?: number;
  readonly policy?: LockPolicy;
}

export interface DeviceAuthState {
  /** wrong credentials for the device, from any address, within the window */
  readonly failures: number;
  /** the latest lock set on the device at some address (ms), 0: none */
  readonly lockedUntil: number;
}

const SCHEME_LABEL: Readonly<Record<string, string>> = { [AuthScheme.Basic]: 'basic', [AuthScheme.Md5]: 'md5', [AuthScheme.Hmac]: 'hmac' };

export class DmAuthGuard implements AuthGuard {
  private readonly limiter: FailureLimiter;
  private readonly limits: Required<Omit<DmAuthLimits, 'policy'>>;
  private readonly clock: Clock;
  private readonly metrics: DmMetrics | undefined;
  private readonly log: (event: string, fields: Record<string, unknown>) => void;

  constructor(options: {
    counts?: FailureCounts;
    limits?: DmAuthLimits;
    clock: Clock;
    metrics?: DmMetrics;
    log?: (event: string, fields: Record<string, unknown>) => void;
  }) {
    const l = options.limits ?? {};
    this.limiter = new FailureLimiter(options.counts, l.policy ?? DEFAULT_POLICY);
    this.limits = {
      perDevice: l.perDevice ?? 5,
      perAddress: l.perAddress ?? 50,
      delayMs: l.delayMs ?? 250,
      maxDelayMs: l.maxDelayMs ?? 2000,
    };
    this.clock = options.clock;
    this.metrics = options.metrics;
    this.log = options.log ?? (() => {});
  }

  async retryAfter(deviceId: string, address: string | undefined): Promise<number> {
    const wait = await this.limiter.retryAfter([pairKey(deviceId, address), addressKey(address)], this.clock.now());
    if (wait > 0) this.metrics?.refusedLocked();
    return wait;
  }

  async failed(f: AuthFailure): Promise<void> {
    const now = this.clock.now();
    const scheme = SCHEME_LABEL[f.scheme] ?? f.scheme;
    // the names and the reason only: never the Cred, a digest or a MAC
    this.log('dm.auth.failed', { deviceId: f.deviceId, from: f.address ?? null, scheme, reason: f.reason });
    this.metrics?.authFailed(scheme, f.reason);
    const [pair, address] = await this.limiter.failed(
      [
        { key: pairKey(f.deviceId, f.address), limit: this.limits.perDevice },
        { key: addressKey(f.address), limit: this.limits.perAddress },
      ],
      now,
    );
    // the device's own record, over every address, for the API (never checked: a stranger elsewhere must not lock it out)
    const seen = deviceKey(f.deviceId);
    await this.limiter.counts.add(seen, now, this.limiter.policy.windowMs);
    for (const [what, r] of [
      ['device', pair!],
      ['address', address!],
    ] as const) {
      if (r.lockedUntil === undefined) continue;
      this.metrics?.authLocked();
      this.log('dm.auth.locked', {
        deviceId: what === 'device' ? f.deviceId : null,
        from: f.address ?? null,
        failures: r.failures,
        until: new Date(r.lockedUntil).toISOString(),
      });
      if (what === 'device') await this.limiter.counts.lock(seen, r.lockedUntil);
    }
    if (pair!.lockedUntil === undefined && address!.lockedUntil === undefined && pair!.failures >= 2) {
      await sleep(Math.min(this.limits.maxDelayMs, this.limits.delayMs * 2 ** (pair!.failures - 2)));
    }
  }

  async succeeded(deviceId: string, address: string | undefined): Promise<void> {
    await this.limiter.clear(pairKey(deviceId, address));
  }

  /** What the API shows of a device's failed authentications. */
  async state(deviceId: string): Promise<DeviceAuthState> {
    const now = this.clock.now();
    const s = await this.limiter.counts.get(deviceKey(deviceId), now, this.limiter.policy.windowMs);
    return { failures: s?.failures ?? 0, lockedUntil: s && s.lockedUntil > now ? s.lockedUntil : 0 };
  }
}

// the address first: it has no "|", a device id may
const pairKey = (deviceId: string, address: string | undefined): string => `dm:p:${address ?? ''}|${deviceId}`;
const addressKey = (address: string | undefined): string => `dm:a:${address ?? ''}`;
const deviceKey = (deviceId: string): string => `dm:d:${deviceId}`;
