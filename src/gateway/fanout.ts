// Fanout jobs (FORA-001/002): the commands of a job run on every target device under a concurrency
// limit, each device with a timeout and retries; each device's result is written once, as it
// arrives; at the end the server gets completionstatus and resultaggregation Generic Alerts.
// A job interrupted by a crash resumes on start: devices with a result are not run again.
import type { GatewayStore, JobCommand, JobResultRow, JobRow } from '../store/gateway.ts';
import type { OperationRow } from '../store/server.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayAlert } from './inventory.ts';
import { fromNodeName, GwmoAlert, xmlEscape } from './names.ts';

export const JobState = { Created: 10, Running: 20, Completed: 30, Cancelled: 40, Failed: 60 } as const;

/** What the runner needs from the gateway's LAN side (its DM server for the devices). */
export interface Southbound {
  queue(deviceId: string, id: string, command: JobCommand): void;
  operation(id: string): OperationRow | undefined;
  cancel(id: string, status: number): void;
  /** operations of the device whose id starts with `prefix` */
  operations(deviceId: string, prefix: string): OperationRow[];
  /** sends the device a Package#0; false when it cannot be reached that way */
  wake(deviceId: string): Promise<boolean>;
}

export interface FanoutDeps {
  readonly store: GatewayStore;
  readonly config: GatewayConfig;
  readonly south: Southbound;
  readonly now: () => number;
  alert(a: GatewayAlert): void;
  progress?(job: string, done: number, total: number): void;
}

const DEVICES = './GwMO/DevInventory/Devices/';
const GROUPS = './GwMO/DevInventory/Groups/';
const finished = (op: OperationRow | undefined): boolean => op !== undefined && (op.state === 'done' || op.state === 'failed');

export type Resolved = { ok: true; devices: string[] } | { ok: false; status: number; reason: string };

export class FanoutRunner {
  private readonly deps: FanoutDeps;
  private readonly waiters = new Map<string, () => void>();
  private readonly running = new Map<string, { cancelled: boolean; done: Promise<void> }>();

  constructor(deps: FanoutDeps) {
    this.deps = deps;
  }

  /** Called for every southbound operation that changes state. */
  operationChanged(op: OperationRow): void {
    if (finished(op)) this.waiters.get(op.id)?.();
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
    for (const w of this.waiters.values()) w(); // wake waiting devices so they notice
    return 200;
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
    const worker = async (): Promise<void> => {
      while (next < todo.length && !state.cancelled) {
        const deviceId = todo[next++]!;
        const result = await this.runDevice(job, deviceId, state);
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

  private async runDevice(job: JobRow, deviceId: string, state: { cancelled: boolean }): Promise<JobResultRow> {
    const { store, south, config } = this.deps;
    const commands = job.commands ?? [];
    const result = (status: number, cmds: JobResultRow['commands']): JobResultRow => ({ job: job.name, deviceId, status, commands: cmds, at: this.deps.now() });
    const device = store.getDevice(deviceId);
    if (!device) return result(404, []);
    if (!device.attached) return result(410, []);
    const timeoutMs = (job.timeoutS ?? config.int('Fanout/DeviceTimeout')) * 1000;
    const retries = job.retries ?? config.int('Fanout/Retries');
    const prefix = `${job.name}/${deviceId}/`;
    // after a restart, an attempt may already be under way or even finished
    const earlier = south.operations(deviceId, prefix);
    let attempt = earlier.reduce((n, op) => Math.max(n, Number(op.id.slice(prefix.length).split('/')[0])), 0);
    let ids = earlier.filter((op) => op.id.startsWith(`${prefix}${attempt}/`)).map((op) => op.id);
    for (;;) {
      if (ids.length === 0) {
        attempt++;
        ids = commands.map((cmd, i) => {
          const id = `${prefix}${attempt}/${i}`;
          south.queue(deviceId, id, cmd);
          return id;
        });
      }
      await south.wake(deviceId);
      const complete = await this.waitAll(ids, timeoutMs, state);
      const ops = ids.map((id) => south.operation(id));
      if (complete || state.cancelled) return result(worst(ops.map((o) => o?.status ?? 408)), ops.map(view));
      for (const op of ops) if (!finished(op)) south.cancel(op!.id, 408);
      if (attempt > retries) {
        const after = ids.map((id) => south.operation(id));
        return result(worst(after.map((o) => o?.status ?? 408)), after.map(view));
      }
      ids = [];
    }
  }

  private waitAll(ids: readonly string[], timeoutMs: number, state: { cancelled: boolean }): Promise<boolean> {
    const pending = new Set(ids.filter((id) => !finished(this.deps.south.operation(id))));
    if (pending.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const stop = (ok: boolean): void => {
        clearTimeout(timer);
        for (const id of ids) this.waiters.delete(id);
        resolve(ok);
      };
      const timer = setTimeout(() => stop(false), timeoutMs);
      for (const id of pending) {
        this.waiters.set(id, () => {
          if (state.cancelled) return stop(false);
          if (finished(this.deps.south.operation(id))) pending.delete(id);
          if (pending.size === 0) stop(true);
        });
      }
    });
  }

  private report(job: JobRow, results: readonly JobResultRow[]): void {
    const source = `./GwMO/Fanout/${job.name}`;
    const correlator = job.correlator ? { correlator: job.correlator } : {};
    const allOk = results.every((r) => r.status >= 200 && r.status < 300);
    this.deps.alert({ type: GwmoAlert.CompletionStatus, source, format: 'int', data: String(job.state), mark: allOk ? 'informational' : 'warning', ...correlator });
    this.deps.alert({ type: GwmoAlert.ResultAggregation, source, format: 'xml', data: aggregateXml(results), ...correlator });
  }
}

function view(op: OperationRow | undefined): JobResultRow['commands'][number] {
  if (!op) return { status: 408 };
  const r = op.results?.[0];
  return { status: op.status ?? 408, ...(r?.data !== undefined ? { data: r.data } : {}), ...(r?.format ? { format: r.format } : {}) };
}

/** The device's outcome: 200 when every command succeeded, else the highest failing code. */
export function worst(codes: readonly number[]): number {
  const failures = codes.filter((c) => c < 200 || c >= 300);
  return failures.length === 0 ? 200 : Math.max(...failures);
}

export function aggregate(results: readonly JobResultRow[]): Map<number, string[]> {
  const byCode = new Map<number, string[]>();
  for (const r of results) byCode.set(r.status, [...(byCode.get(r.status) ?? []), r.deviceId]);
  return new Map([...byCode].sort((a, b) => a[0] - b[0]));
}

/** `<Aggregate total="n"><Status code="200" count="98"/><Status code="408" count="2"><Device>…</Device></Status></Aggregate>` */
export function aggregateXml(results: readonly JobResultRow[]): string {
  let xml = `<Aggregate total="${results.length}">`;
  for (const [code, devices] of aggregate(results)) {
    const ok = code >= 200 && code < 300;
    xml += ok ? `<Status code="${code}" count="${devices.length}"/>`
      : `<Status code="${code}" count="${devices.length}">${devices.map((d) => `<Device>${xmlEscape(d)}</Device>`).join('')}</Status>`;
  }
  return `${xml}</Aggregate>`;
}
