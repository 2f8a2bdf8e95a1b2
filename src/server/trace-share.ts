// With a store several instances share (PostgreSQL), each instance's session traces are copied there
// so that any instance lists the fleet's: what changed is written a moment later, in one statement
// for all sessions that changed, outside the DM messages' transactions (a trace is for reading, not
// worth slowing a session for). Each instance still keeps its own ring in memory; the table keeps
// what the rings keep, at most FLEET_TRACES sessions in all.
import { fromJson, toJson } from '../store/rows.ts';
import type { MinuteCount, SharedTraces, TraceRow } from '../store/server.ts';
import { type MinuteSeries, seriesOf } from './session-rate.ts';
import type { SessionTrace, TracedSession, TraceListener, TraceMessage } from './trace.ts';

export const FLEET_TRACES = 1000;
/** changes gathered this long are written together */
const FLUSH_MS = 1000;

/** what a list of sessions shows of one */
export interface TraceSummary {
  readonly id: string;
  readonly deviceId: string;
  readonly dmSessionId: string;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly outcome?: string;
  readonly messages: number;
  readonly bytes: number;
  readonly dropped: number;
}

export function summaryOf(s: TracedSession): TraceSummary {
  return {
    id: s.id,
    deviceId: s.deviceId,
    dmSessionId: s.dmSessionId,
    startedAt: s.startedAt,
    ...(s.endedAt !== undefined ? { endedAt: s.endedAt } : {}),
    ...(s.outcome !== undefined ? { outcome: s.outcome } : {}),
    messages: s.messages.length,
    bytes: s.bytes,
    dropped: s.dropped,
  };
}

/** Where the API reads traces from: this instance's ring, or the fleet's through the store. */
export interface TraceSource {
  /** the fleet's sessions per minute (the local ring's when absent) */
  series?(count: number, now: number): Promise<MinuteSeries>;
  list(query: { deviceId?: string; limit: number; offset: number }): Promise<{ items: TraceSummary[]; total: number }>;
  get(id: string): Promise<(TraceSummary & { readonly trace: readonly TraceMessage[] }) | undefined>;
}

export function localTraces(trace: SessionTrace): TraceSource {
  return {
    list: async ({ deviceId, limit, offset }) => {
      const all = trace.list().filter((s) => deviceId === undefined || s.deviceId === deviceId);
      return { items: all.slice(offset, offset + limit).map(summaryOf), total: all.length };
    },
    get: async (id) => {
      const s = trace.get(id);
      return s ? { ...summaryOf(s), trace: s.messages } : undefined;
    },
  };
}

export class TraceShare implements TraceListener, TraceSource {
  private readonly shared: SharedTraces;
  private readonly log: (event: string, fields: Record<string, unknown>) => void;
  private readonly dirty = new Map<string, TracedSession>();
  private readonly gone = new Set<string>();
  /** sessions ended here per minute, not yet added to the fleet's */
  private readonly counted = new Map<number, { sessions: number; failures: number }>();
  private readonly rateMinutes: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(trace: SessionTrace, shared: SharedTraces, log: (event: string, fields: Record<string, unknown>) => void = () => {}) {
    this.shared = shared;
    this.log = log;
    trace.watch(shared.idPrefix, this);
    trace.fleet = this;
    this.rateMinutes = trace.rate.minutes;
    trace.rate.onEnded = (minute, failed) => {
      const c = this.counted.get(minute) ?? { sessions: 0, failures: 0 };
      c.sessions++;
      if (failed) c.failures++;
      this.counted.set(minute, c);
      this.schedule();
    };
  }

  changed(session: TracedSession): void {
    this.dirty.set(session.id, session);
    this.gone.delete(session.id);
    this.schedule();
  }

  dropped(id: string): void {
    this.dirty.delete(id);
    this.gone.add(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Writes what changed (one write at a time); the store down: the change is lost, the next ones go. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const put: TraceRow[] = [...this.dirty.values()].map((s) => ({
      id: s.id,
      deviceId: s.deviceId,
      startedAt: s.startedAt,
      summary: JSON.stringify(summaryOf(s)),
      messages: toJson(s.messages),
    }));
    const gone = [...this.gone];
    const counts: MinuteCount[] = [...this.counted].map(([minute, c]) => ({ minute, ...c }));
    this.dirty.clear();
    this.gone.clear();
    this.counted.clear();
    const keepFrom = Math.floor(Date.now() / 60_000) - this.rateMinutes;
    this.writing = this.writing
      .then(() => (put.length > 0 || gone.length > 0 ? this.shared.save(put, gone, FLEET_TRACES) : undefined))
      .then(() => (counts.length > 0 ? this.shared.addMinutes(counts, keepFrom) : undefined))
      .catch((err: unknown) => this.log('trace.share.error', { error: String(err) }));
    return this.writing;
  }

  async list(query: { deviceId?: string; limit: number; offset: number }): Promise<{ items: TraceSummary[]; total: number }> {
    await this.flush(); // this instance's newest sessions are listed too
    const { rows, total } = await this.shared.list(query);
    return { items: rows.map((r) => fromJson<TraceSummary>(r.summary)), total };
  }

  async series(count: number, now: number): Promise<MinuteSeries> {
    await this.flush(); // this instance's newest sessions are counted too
    const last = Math.floor(now / 60_000);
    return seriesOf(await this.shared.minutes(last - count + 1, last), count, now);
  }

  async get(id: string): Promise<(TraceSummary & { readonly trace: readonly TraceMessage[] }) | undefined> {
    await this.flush();
    const r = await this.shared.get(id);
    return r ? { ...fromJson<TraceSummary>(r.summary), trace: fromJson<TraceMessage[]>(r.messages) } : undefined;
  }
}
