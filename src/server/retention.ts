// Retention: history (finished operations, alerts, finished device jobs; on a gateway also finished
// fanout jobs) pruned in the background, in batches of a few hundred rows, each its own statement,
// the event loop free between them, so a check-in never waits behind a long transaction. What each
// run removed is counted per kind (gwmo_retention_pruned_total{kind}) and logged at debug.
import { Counter, type Registry } from 'prom-client';

import type { AuthStore } from '../store/auth.ts';
import type { PerDeviceKind } from '../store/history.ts';
import type { ServerStore } from '../store/server.ts';

const DAY_MS = 86_400_000;
/**
 * rows per statement. Deleting a row of `operations` touches its five indexes: on a 270 MiB SQLite
 * store at load ~22 on 2 cores, statements of 500 took 72–121 ms on average (BENCHMARKS.md, history),
 * the write lock held all along; 200 keep what a check-in may wait behind shorter.
 */
export const PRUNE_BATCH = 200;
/**
 * devices whose per-device count one statement looks at: the ranking reads their finished rows (up to
 * 25 × the kept count), a few milliseconds at the defaults
 */
const DEVICES_PER_STEP = 25;

/** How much of one kind of history is kept: by age (days, 0: no limit) and by count per device (0: no limit). */
export interface KeepRule {
  readonly days: number;
  readonly perDevice?: number;
}

export interface ServerRetention {
  readonly operations: KeepRule;
  readonly alerts: KeepRule;
  readonly deviceJobs: KeepRule;
}

/** What is kept when nothing is configured (docs/operations.md, Retention). */
export const DEFAULT_RETENTION: ServerRetention = {
  operations: { days: 30, perDevice: 200 },
  // a gateway's alerts are its whole fleet's (inventory, fanouts, LwM2M notifications: the API's
  // observed values read a gateway's newest 5,000)
  alerts: { days: 30, perDevice: 10_000 },
  deviceJobs: { days: 30 },
};

/** One kind's prune: yields the rows each batch removed; the runner yields the event loop between batches. */
export interface PruneStep {
  readonly kind: string;
  run(now: number): AsyncIterable<number>;
}

/** Steps pruning a server store (the server's, or a gateway's LAN-side one) after `retention`. */
export function storeSteps(store: ServerStore, retention: () => ServerRetention, batch = PRUNE_BATCH): PruneStep[] {
  const older = (kind: keyof ServerRetention): PruneStep => ({
    kind,
    async *run(now) {
      const days = retention()[kind].days;
      if (days <= 0) return;
      for (;;) {
        const n = await store.pruneOlder(kind, now - days * DAY_MS, batch);
        yield n;
        if (n < batch) return;
      }
    },
  });
  const beyond = (kind: PerDeviceKind): PruneStep => ({
    kind,
    async *run() {
      const keep = retention()[kind].perDevice ?? 0;
      if (keep <= 0) return;
      let cursor: string | undefined = '';
      while (cursor !== undefined) {
        const step = await store.pruneBeyond(kind, keep, cursor, DEVICES_PER_STEP, batch);
        yield step.removed;
        cursor = step.next;
      }
    },
  });
  return [older('operations'), beyond('operations'), older('alerts'), beyond('alerts'), older('deviceJobs')];
}

/** API tokens that expired or were revoked more than `days()` ago (dashboard logins leave one each). */
export function tokenStep(auth: AuthStore, days: () => number, batch = PRUNE_BATCH): PruneStep {
  return {
    kind: 'tokens',
    async *run(now) {
      if (days() <= 0) return;
      for (;;) {
        const n = await auth.pruneTokens(now - days() * DAY_MS, batch);
        yield n;
        if (n < batch) return;
      }
    },
  };
}

export interface PrunerOptions {
  readonly steps: readonly PruneStep[];
  /** between runs, read before each wait (a gateway's is set through its config MO); 0: only when runOnce is called */
  readonly intervalMs: number | (() => number);
  readonly registry?: Registry;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  readonly now?: () => number;
}

export class Pruner {
  private readonly options: PrunerOptions;
  private readonly counter: Counter<'kind'> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private running: Promise<Record<string, number>> | undefined;
  private stopped = false;
  /** statements run by the last run (a test sees a large prune go in batches) */
  statements = 0;

  constructor(options: PrunerOptions) {
    this.options = options;
    if (options.registry)
      this.counter = new Counter({
        name: 'gwmo_retention_pruned_total',
        help: 'history rows removed by retention, by kind (operations, alerts, deviceJobs, tokens; on a gateway also gatewayJobs)',
        labelNames: ['kind'],
        registers: [options.registry],
      });
  }

  /** Runs every `intervalMs`, the first run one interval after start (not while the process starts up). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const interval = this.options.intervalMs;
    const schedule = (): void => {
      if (this.stopped) return;
      const ms = typeof interval === 'number' ? interval : interval();
      // 0 turns it off; with an interval that may change (a gateway's), it looks again a minute later
      if (ms <= 0 && typeof interval === 'number') return;
      // a little jitter: instances started together on one database do not prune in step
      const wait = ms > 0 ? ms * (0.9 + Math.random() * 0.2) : 60_000;
      this.timer = setTimeout(() => {
        const run = ms > 0 ? this.runOnce() : Promise.resolve({});
        void run.catch((err: unknown) => this.options.log?.('retention.error', { error: String(err) })).finally(schedule);
      }, wait);
      this.timer.unref();
    };
    schedule();
  }

  /** One run over every step (joins the run under way); rows removed by kind. */
  runOnce(): Promise<Record<string, number>> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<Record<string, number>> {
    const now = (this.options.now ?? Date.now)();
    const removed: Record<string, number> = {};
    const started = Date.now();
    this.statements = 0;
    for (const step of this.options.steps) {
      for await (const n of step.run(now)) {
        this.statements++;
        if (n > 0) {
          removed[step.kind] = (removed[step.kind] ?? 0) + n;
          this.counter?.inc({ kind: step.kind }, n);
        }
        if (this.stopped) return removed;
        // between batches the event loop runs whatever waits (DM messages, API calls)
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    this.options.log?.('retention.run', { removed, statements: this.statements, ms: Date.now() - started });
    return removed;
  }

  /** Stops the timer and the run under way after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
