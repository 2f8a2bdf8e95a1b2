// DM sessions and failures per minute over the last hours, for the dashboard's overview: a fixed
// ring of minute buckets in memory, so its size does not grow with traffic. Each server instance
// counts the sessions it held; a restart starts from zero. With a shared store the counts are also
// added to the fleet's (trace-share.ts), which the API reads.
import type { MinuteCount } from '../store/server.ts';

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
  /** set when the counts are shared with other instances (trace-share.ts) */
  onEnded: ((minute: number, failed: boolean) => void) | undefined;
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
    this.onEnded?.(minute, failed);
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

/** The last `count` minutes up to the one holding `now` from counts read elsewhere (the fleet's), oldest first. */
export function seriesOf(counts: readonly MinuteCount[], count: number, now: number): MinuteSeries {
  const last = Math.floor(now / MINUTE);
  const first = last - count + 1;
  const sessions = new Array<number>(count).fill(0);
  const failures = new Array<number>(count).fill(0);
  for (const c of counts) {
    if (c.minute < first || c.minute > last) continue;
    sessions[c.minute - first]! += c.sessions;
    failures[c.minute - first]! += c.failures;
  }
  return { from: first * MINUTE, sessions, failures };
}
