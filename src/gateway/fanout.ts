// Fanout jobs (FORA-001/002): the commands of a job run on every target device under a concurrency
// limit, each device with a timeout and retries; each device's result is written once, as it
// arrives; at the end the server gets completionstatus and resultaggregation Generic Alerts.
// A job interrupted by a crash resumes on start: devices with a result are not run again.
import type { GatewayStore, JobCommand, JobResultRow, JobRow } from '../store/gateway.ts';
import type { EndDeviceDriver } from '../adapters/driver.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayAlert } from './inventory.ts';
import { fromNodeName, GwmoAlert, xmlEscape } from './names.ts';

export const JobState = { Created: 10, Running: 20, Completed: 30, Cancelled: 40, Failed: 60 } as const;

export interface FanoutDeps {
  readonly store: GatewayStore;
  readonly config: GatewayConfig;
  /** the driver for a device's protocol (inventory Protocol "OMA-DM/1.2" → "OMA-DM") */
  driverFor(protocol: string): EndDeviceDriver | undefined;
  readonly now: () => number;
  alert(a: GatewayAlert): void;
  /** a job was cancelled: drivers waiting on devices should notice */
  cancelled?(): void;
  progress?(job: string, done: number, total: number): void;
  /** a device's turn starts (its commands, as that device is to get them) and ends: src/gateway/downloads.ts */
  readonly turns?: {
    begin(job: string, deviceId: string, commands: readonly JobCommand[]): readonly JobCommand[];
    end(job: string, deviceId: string): void;
  };
  /** a job refused at Start, and a job's outcome per status: what an operator greps the gateway's log for */
  log?(event: 'fanout.refused' | 'fanout.done', fields: Record<string, unknown>): void;
}

const DEVICES = './GwMO/DevInventory/Devices/';
const GROUPS = './GwMO/DevInventory/Groups/';

export type Resolved = { ok: true; devices: string[] } | { ok: false; status: number; reason: string };

export class FanoutRunner {
  private readonly deps: FanoutDeps;
  private readonly running = new Map<string, { cancelled: boolean; done: Promise<void> }>();

  constructor(deps: FanoutDeps) {
    this.deps = deps;
  }

  resolveTargets(targets: readonly string[]): Resolved {
    // devices in the order the targets name them, each once
    const devices = new Set<string>();
    if (targets.length === 0) return { ok: false, status: 412, reason: 'the job has no targets' };
    for (const t of targets) {
      const uri = t.startsWith('./') ? t : `./${t}`;
      if (uri.startsWith(DEVICES)) {
        const id = fromNodeName(uri.slice(DEVICES.length));
        if (!this.deps.store.getDevice(id)) return { ok: false, status: 404, reason: `no device ${id}` };
        devices.add(id);
      } else if (uri.startsWith(GROUPS)) {
        const group = this.deps.store.getGroup(uri.slice(GROUPS.length));
        if (!group) return { ok: false, status: 404, reason: `no group ${uri.slice(GROUPS.length)}` };
        for (const m of group.members) devices.add(m.deviceId);
      } else {
        return { ok: false, status: 400, reason: `target ${t} is neither a device nor a group of ./GwMO/DevInventory` };
      }
    }
    if (devices.size === 0) return { ok: false, status: 412, reason: 'the targets hold no devices' };
    return { ok: true, devices: [...devices] };
  }

  /** Exec Operations/Start: 202 and the job runs; or the status saying why it cannot. */
  start(job: JobRow, devices: readonly string[], correlator: string | undefined): number {
    if (job.state === JobState.Running) return 409 as number;
    const row: JobRow = { ...job, devices, state: JobState.Running, ...(correlator ? { correlator } : {}) };
    this.deps.store.putJob(row);
    this.launch(row);
    return 202;
  }

  cancel(name: string): number {
    const job = this.deps.store.getJob(name);
    if (!job) return 404;
    if (job.state !== JobState.Running) return 200;
    const r = this.running.get(name);
    if (r) r.cancelled = true;
    this.deps.store.putJob({ ...job, state: JobState.Cancelled, finishedAt: this.deps.now() });
    this.deps.cancelled?.();
    return 200;
  }

  /** Stops working on every job without changing its stored state: a restart resumes them. */
  halt(): void {
    for (const r of this.running.values()) r.cancelled = true;
    this.deps.cancelled?.();
  }

  /** Jobs left running by a crash continue. */
  resume(): void {
    for (const job of this.deps.store.listJobs()) if (job.state === JobState.Running) this.launch(job);
  }

  /** Resolves when the job is no longer running here. */
  async settled(name: string): Promise<void> {
    await this.running.get(name)?.done;
  }

  private launch(job: JobRow): void {
    const state = { cancelled: false, done: Promise.resolve() };
    state.done = this.run(job, state).finally(() => this.running.delete(job.name));
    this.running.set(job.name, state);
  }

  private async run(job: JobRow, state: { cancelled: boolean }): Promise<void> {
    const devices = job.devices ?? [];
    const doneAlready = new Set(this.deps.store.listResults(job.name).map((r) => r.deviceId));
    const todo = devices.filter((d) => !doneAlready.has(d));
    const width = Math.max(1, job.concurrency ?? this.deps.config.int('Fanout/MaxConcurrency'));
    let next = 0;
    let done = doneAlready.size;
    // read once per run, not once per device
    const limits = {
      timeoutMs: (job.timeoutS ?? this.deps.config.int('Fanout/DeviceTimeout')) * 1000,
      retries: job.retries ?? this.deps.config.int('Fanout/Retries'),
    };
    const worker = async (): Promise<void> => {
      while (next < todo.length && !state.cancelled) {
        const deviceId = todo[next++]!;
        const result = await this.runDevice(job, deviceId, limits, state);
        if (state.cancelled) return;
        if (this.deps.store.addResult(result)) done++;
        this.deps.progress?.(job.name, done, devices.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, todo.length) }, worker));
    if (state.cancelled) return;
    const results = this.deps.store.listResults(job.name);
    const finishedJob: JobRow = { ...job, state: JobState.Completed, finishedAt: this.deps.now() };
    this.deps.store.putJob(finishedJob);
    this.report(finishedJob, results);
  }

  private async runDevice(
    job: JobRow,
    deviceId: string,
    limits: { timeoutMs: number; retries: number },
    state: { cancelled: boolean },
  ): Promise<JobResultRow> {
    const { store } = this.deps;
    const result = (status: number, cmds: JobResultRow['commands']): JobResultRow => ({
      job: job.name,
      deviceId,
      status,
      commands: cmds,
      at: this.deps.now(),
    });
    const device = store.getDevice(deviceId);
    if (!device) return result(404, []);
    if (!device.attached) return result(410, []);
    const driver = this.deps.driverFor(device.protocol.split('/')[0]!);
    if (!driver) return result(501, []);
    const turns = this.deps.turns;
    const commands = turns ? turns.begin(job.name, deviceId, job.commands ?? []) : (job.commands ?? []);
    try {
      const results = await driver.execute(deviceId, commands, {
        key: `${job.name}/${deviceId}`,
        ...limits,
        cancelled: () => state.cancelled,
      });
      return result(worst(results.map((r) => r.status)), results);
    } finally {
      turns?.end(job.name, deviceId);
    }
  }

  /** Start refused (the DM status goes back to the server): logged with why */
  refused(job: string, status: number, reason: string): number {
    this.deps.log?.('fanout.refused', { job, status, reason });
    return status;
  }

  private report(job: JobRow, results: readonly JobResultRow[]): void {
    const statuses: Record<string, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    this.deps.log?.('fanout.done', { job: job.name, total: results.length, statuses, inDoubt: results.filter(inDoubt).length });
    const source = `./GwMO/Fanout/${job.name}`;
    const correlator = job.correlator ? { correlator: job.correlator } : {};
    const allOk = results.every((r) => r.status >= 200 && r.status < 300);
    this.deps.alert({
      type: GwmoAlert.CompletionStatus,
      source,
      format: 'int',
      data: String(job.state),
      mark: allOk ? 'informational' : 'warning',
      ...correlator,
    });
    this.deps.alert({ type: GwmoAlert.ResultAggregation, source, format: 'xml', data: aggregateXml(results), ...correlator });
  }
}

/** The device's outcome: 200 when every command succeeded, else the highest failing code. */
export function worst(codes: readonly number[]): number {
  const failures = codes.filter((c) => c < 200 || c >= 300);
  return failures.length === 0 ? 200 : Math.max(...failures);
}

export function aggregate(results: readonly JobResultRow[]): Map<number, string[]> {
  const byCode = new Map<number, string[]>();
  for (const r of results) {
    const devices = byCode.get(r.status);
    if (devices)
      devices.push(r.deviceId); // not a copy per device: 10,000 results made that quadratic
    else byCode.set(r.status, [r.deviceId]);
  }
  return new Map([...byCode].sort((a, b) => a[0] - b[0]));
}

/** A device some command of which was sent and never answered, and not sent again: whether it ran is unknown. */
export function inDoubt(r: JobResultRow): boolean {
  return r.commands.some((c) => c.inDoubt === true);
}

/**
 * `<Aggregate total="n"><Status code="200" count="97"/><Status code="408" count="3"><Device>…</Device></Status>
 * <InDoubt count="1"><Device>…</Device></InDoubt></Aggregate>`: devices in doubt are counted under their
 * status (408) and again, by name, in InDoubt (absent when none is)
 */
export function aggregateXml(results: readonly JobResultRow[]): string {
  let xml = `<Aggregate total="${results.length}">`;
  for (const [code, devices] of aggregate(results)) {
    const ok = code >= 200 && code < 300;
    xml += ok
      ? `<Status code="${code}" count="${devices.length}"/>`
      : `<Status code="${code}" count="${devices.length}">${devices.map((d) => `<Device>${xmlEscape(d)}</Device>`).join('')}</Status>`;
  }
  const doubt = results.filter(inDoubt);
  if (doubt.length > 0)
    xml += `<InDoubt count="${doubt.length}">${doubt.map((r) => `<Device>${xmlEscape(r.deviceId)}</Device>`).join('')}</InDoubt>`;
  return `${xml}</Aggregate>`;
}
