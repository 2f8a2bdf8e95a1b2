// DM sessions and failures per minute over the last hours, for the dashboard's overview: a fixed
// ring of minute buckets in memory, so its size does not grow with traffic. Each server instance
// counts the sessions it held; a restart starts from zero.
export const RATE_MINUTES = 360;
const MINUTE = 60_000;

export interface MinuteSeries {
  /** start of the first minute (epoch ms); one entry per minute from there, the last is the current one */
  readonly from: number;
  readonly sessions: readonly number[];
  readonly failures: readonly number[];
}

export class SessionRate {
  readonly minutes: number;
  /** the minute (since the epoch) each slot counts; -1 for never */
  private readonly stamps: Float64Array;
  private readonly sessions: Uint32Array;
  private readonly failures: Uint32Array;

  constructor(minutes: number = RATE_MINUTES) {
    this.minutes = minutes;
    this.stamps = new Float64Array(minutes).fill(-1);
    this.sessions = new Uint32Array(minutes);
    this.failures = new Uint32Array(minutes);
  }

  /** a session ended at `at`; `failed` when it did not end done (auth-failed, aborted, timeout, refused) */
  ended(at: number, failed: boolean): void {
    const minute = Math.floor(at / MINUTE);
    const i = minute % this.minutes;
    if (this.stamps[i] !== minute) {
      this.stamps[i] = minute;
      this.sessions[i] = 0;
      this.failures[i] = 0;
    }
    this.sessions[i]!++;
    if (failed) this.failures[i]!++;
  }

  /** the last `count` minutes up to the one holding `now`, oldest first (count ≤ minutes) */
  series(count: number, now: number): MinuteSeries {
    const last = Math.floor(now / MINUTE);
    const n = Math.min(Math.max(1, Math.floor(count)), this.minutes);
    const sessions: number[] = [];
    const failures: number[] = [];
    for (let minute = last - n + 1; minute <= last; minute++) {
      const i = minute % this.minutes;
      const kept = this.stamps[i] === minute;
      sessions.push(kept ? this.sessions[i]! : 0);
      failures.push(kept ? this.failures[i]! : 0);
    }
    return { from: (last - n + 1) * MINUTE, sessions, failures };
  }
}
