// Prometheus metrics of one gateway: its LAN-side DM server (role "gateway"), inventory, fanouts,
// image downloads and northbound sessions, in a registry of its own labelled with the gateway's
// DevId; served at /metrics on the LAN listener.
import type { EventEmitter } from 'node:events';

import { Counter, Gauge, Registry } from 'prom-client';

import { DmMetrics } from '../server/metrics.ts';
import type { GatewayStore } from '../store/gateway.ts';
import type { ServeCounters } from '../transport/http/files.ts';
import type { AlertBatch, BatchCounters } from './alert-batch.ts';
import { JobState } from './fanout.ts';

const STATES: Record<number, string> = {
  [JobState.Created]: 'created',
  [JobState.Running]: 'running',
  [JobState.Completed]: 'completed',
  [JobState.Cancelled]: 'cancelled',
  [JobState.Failed]: 'failed',
};

export class GatewayMetrics {
  readonly registry = new Registry();
  /** the LAN side is a DM server: its sessions, messages, auth failures and Package#0 count here */
  readonly dm: DmMetrics;
  private readonly north: Counter<'outcome'>;
  private readonly results: Counter;

  constructor(gatewayId: string) {
    this.registry.setDefaultLabels({ gateway: gatewayId });
    this.dm = new DmMetrics('gateway', this.registry);
    const registers = [this.registry];
    this.north = new Counter({
      name: 'gwmo_gateway_north_sessions_total',
      help: 'sessions with the DM server, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.results = new Counter({ name: 'gwmo_fanout_device_results_total', help: 'per-device fanout results recorded', registers });
  }

  /** Reads the inventory, jobs and image counters at scrape time; counts fanout progress as it comes. */
  observe(store: GatewayStore, images: ServeCounters, events: EventEmitter): void {
    const registers = [this.registry];
    new Gauge({
      name: 'gwmo_devices_attached',
      help: 'end devices attached to this gateway',
      registers,
      collect() {
        this.set(store.listDevices().filter((d) => d.attached).length);
      },
    });
    new Gauge({
      name: 'gwmo_devices_known',
      help: 'end devices in the inventory, attached or not',
      registers,
      collect() {
        this.set(store.listDevices().length);
      },
    });
    const running = new Gauge({
      name: 'gwmo_fanout_jobs_running',
      help: 'fanout jobs running',
      registers,
      collect() {
        // registered before the gauges it fills, so one scrape reads one pass over the jobs
        const all = store.listJobs();
        jobs.reset();
        done.reset();
        total.reset();
        for (const state of Object.values(STATES)) jobs.set({ state }, 0);
        for (const j of all) jobs.inc({ state: STATES[j.state] ?? String(j.state) });
        const now = all.filter((j) => j.state === JobState.Running);
        for (const j of now) {
          done.set({ job: j.name }, store.listResults(j.name).length);
          total.set({ job: j.name }, j.devices?.length ?? 0);
        }
        running.set(now.length);
      },
    });
    const jobs = new Gauge({ name: 'gwmo_fanout_jobs', help: 'fanout jobs on this gateway by state', labelNames: ['state'], registers });
    const done = new Gauge({
      name: 'gwmo_fanout_devices_done',
      help: 'devices with a result, per running fanout',
      labelNames: ['job'],
      registers,
    });
    const total = new Gauge({
      name: 'gwmo_fanout_devices_total',
      help: 'devices targeted, per running fanout',
      labelNames: ['job'],
      registers,
    });
    this.dm.observeImages(images);
    events.on('progress', () => this.results.inc());
  }

  /** The LwM2M notify/send batch's records: queued and dropped as counters, waiting as a gauge. */
  observeBatch(batch: AlertBatch, rateDropped: () => number): void {
    const registers = [this.registry];
    const counters: [keyof BatchCounters, string, string][] = [
      ['queued', 'gwmo_gateway_lwm2m_alert_records_total', 'LwM2M notify/send records queued for the DM server'],
      [
        'dropped',
        'gwmo_gateway_lwm2m_alert_records_dropped_total',
        'LwM2M notify/send records dropped: the batch for the DM server was full',
      ],
      ['alerts', 'gwmo_gateway_lwm2m_alerts_total', 'Generic Alerts the LwM2M notify/send records went north in'],
    ];
    for (const [key, name, help] of counters)
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(batch.counters[key]);
        },
      });
    new Counter({
      name: 'gwmo_gateway_lwm2m_notify_rate_dropped_total',
      help: 'LwM2M notifications and Sends dropped: the device went over its rate (20/s, a burst of 200)',
      registers,
      collect() {
        this.reset();
        this.inc(rateDropped());
      },
    });
    new Gauge({
      name: 'gwmo_gateway_lwm2m_alert_records_waiting',
      help: 'LwM2M notify/send records waiting for the next session with the DM server',
      registers,
      collect() {
        this.set(batch.counters.waiting);
      },
    });
  }

  northSession(outcome: string): void {
    this.north.inc({ outcome });
  }
}
