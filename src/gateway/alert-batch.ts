// LwM2M notifications and Sends on their way north. One Generic Alert per item would make the
// session encode, and the server store, one command per notification (10,000 a second from a
// fleet): instead they wait here until the next north session takes them, one item per device
// holding its SenML records in arrival order, items packed into alerts of at most ALERT_BYTES.
// The wait is bounded: a record beyond `maxRecords` is dropped, counted and logged once a minute.
import type { OutgoingAlert } from '../session/client/types.ts';
import type { GatewayAlert } from './inventory.ts';

/** an alert stays well under the smallest MaxMsgSize a DM server announces by default (16 KiB) */
export const ALERT_BYTES = 8 * 1024;
const LOG_EVERY_MS = 60_000;

export interface BatchCounters {
  /** records taken in since start */
  readonly queued: number;
  /** records waiting for the next north session */
  readonly waiting: number;
  /** records dropped because `maxRecords` were waiting */
  readonly dropped: number;
  /** alerts handed to north sessions */
  readonly alerts: number;
}

export class AlertBatch {
  /** type → source → SenML JSON arrays, each as the device's notification gave it */
  private pending = new Map<string, Map<string, string[]>>();
  private readonly maxRecords: number;
  private readonly log: ((event: string, fields: Record<string, unknown>) => void) | undefined;
  private readonly now: () => number;
  private loggedAt = Number.NEGATIVE_INFINITY;
  private counts = { queued: 0, waiting: 0, dropped: 0, alerts: 0 };

  constructor(options: { maxRecords?: number; log?: (event: string, fields: Record<string, unknown>) => void; now?: () => number } = {}) {
    this.maxRecords = options.maxRecords ?? 100_000;
    this.log = options.log;
    this.now = options.now ?? Date.now;
  }

  get counters(): BatchCounters {
    return { ...this.counts };
  }

  /** Keeps `a` (its data a SenML JSON array) for the next session; false when dropped. */
  add(a: GatewayAlert): boolean {
    if (this.counts.waiting >= this.maxRecords) {
      this.counts.dropped++;
      const at = this.now();
      if (at - this.loggedAt >= LOG_EVERY_MS) {
        this.loggedAt = at;
        this.log?.('alert.batch.dropped', { type: a.type, source: a.source, dropped: this.counts.dropped, waiting: this.counts.waiting });
      }
      return false;
    }
    let bySource = this.pending.get(a.type);
    if (!bySource) this.pending.set(a.type, (bySource = new Map()));
    const parts = bySource.get(a.source);
    if (parts) parts.push(a.data);
    else bySource.set(a.source, [a.data]);
    this.counts.queued++;
    this.counts.waiting++;
    return true;
  }

  /** Everything waiting, as Generic Alerts (1226) of one type each; empties the batch. */
  take(): OutgoingAlert[] {
    const out: OutgoingAlert[] = [];
    for (const [type, bySource] of this.pending) {
      let items: OutgoingAlert['items'][number][] = [];
      let bytes = 0;
      for (const [source, parts] of bySource)
        for (const data of joined(parts)) {
          if (items.length > 0 && bytes + source.length + data.length > ALERT_BYTES) {
            out.push({ code: 1226, items });
            items = [];
            bytes = 0;
          }
          items.push({ source, type, format: 'chr', data });
          bytes += source.length + data.length;
        }
      if (items.length > 0) out.push({ code: 1226, items });
    }
    this.pending = new Map();
    this.counts.waiting = 0;
    this.counts.alerts += out.length;
    return out;
  }
}

/**
 * SenML JSON arrays made into as few as fit ALERT_BYTES each (a device that waited long does not make
 * one alert too large for a message); each array starts with its own bn (src/adapters/lwm2m/senml.ts),
 * so records keep their names when joined
 */
function joined(arrays: readonly string[]): string[] {
  if (arrays.length === 1) return [arrays[0]!];
  const out: string[] = [];
  let records: string[] = [];
  let bytes = 0;
  for (const a of arrays) {
    const inner = a.trim().slice(1, -1).trim();
    if (inner === '') continue;
    if (records.length > 0 && bytes + inner.length > ALERT_BYTES) {
      out.push(`[${records.join(',')}]`);
      records = [];
      bytes = 0;
    }
    records.push(inner);
    bytes += inner.length + 1;
  }
  if (records.length > 0) out.push(`[${records.join(',')}]`);
  return out;
}
