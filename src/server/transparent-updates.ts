// A distribution's transparent-mode devices (docs/updates.md, Transparent-mode devices): such a
// device holds its own DM sessions with this server, so a gateway fanout cannot reach it. Its
// update commands (the same ones a fanout carries) go on its own operation queue, the gateway
// forwards the Package#0 that wakes it (EDTrigger), and the Generic Alert it sends this server at
// the end (FUMO or SCOMO result, matched to the Exec by Correlator) gives its row the same state,
// result code and meaning a proxy-mode device's row gets. The PkgURL is the distribution's: the
// gateway's LAN store link, or the server's link when the gateway stores no images.
import type { DistributionDeviceRow, DistributionRow, OperationRow, ServerStore } from '../store/server.ts';
import { FUMO_ROOT, SCOMO_ROOT } from '../tree/index.ts';
import { deviceOutcome, updateCommands } from './distributions.ts';
import { type GatewayService, nodeName } from './gateways.ts';
import { type NewOperation, ServiceError } from './service.ts';

/** the gateway's Fanout/DeviceTimeout default: the time a proxy-mode device gets when the distribution names none */
const DEFAULT_TIMEOUT_S = 30;
const TRANSPARENT_MODE = '1';
const CHUNK = 500;
/** the EDTrigger's answers (src/gateway/transparent.ts), for a row's meaning */
const TRIGGER: Record<number, string> = {
  400: 'the notification is malformed',
  403: 'the notification names another server',
  404: 'the gateway has no such device',
  409: 'replay',
  410: 'the device is detached',
  412: 'the trigger is incomplete',
  503: 'the device has not told the gateway where it listens for Package#0',
};

export interface TransparentDeps {
  readonly store: ServerStore;
  readonly gateways: GatewayService;
  readonly now: () => number;
  readonly log: (e: string, f: Record<string, unknown>) => void;
  /** stores changed rows and tells the distribution's watchers */
  readonly update: (id: string, rows: readonly DistributionDeviceRow[]) => Promise<void>;
  /** a row ended: the distribution may be done */
  readonly ended: (id: string) => Promise<void>;
}

const correlator = (d: DistributionRow): string => `dist:${d.id}:transparent`;
const timeoutMs = (d: DistributionRow): number => (d.timeout ?? DEFAULT_TIMEOUT_S) * 1000;
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString() : undefined;
const open = (op: OperationRow): boolean => op.state === 'queued' || op.state === 'sent' || op.state === 'accepted';

export class TransparentUpdates {
  private readonly deps: TransparentDeps;
  /** rows this process is working on (`<distribution>\n<device>`): a sweep leaves them alone */
  private readonly working = new Set<string>();

  constructor(deps: TransparentDeps) {
    this.deps = deps;
  }

  /** Those of `devices` the gateway's inventory shows in transparent mode (Mode 1). */
  async of(gatewayId: string, devices: readonly string[], waitMs: number): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < devices.length; i += CHUNK) {
      const part = devices.slice(i, i + CHUNK);
      const r = await this.deps.gateways.run(
        gatewayId,
        part.map((id) => ({ kind: 'Get' as const, path: `./GwMO/DevInventory/Devices/${nodeName(id)}/Mode` })),
        waitMs,
      );
      if (!r.done) throw new ServiceError(504, `gateway ${gatewayId} did not answer within the wait; try again`);
      r.operations.forEach((op, k) => {
        if (op.status === 200 && text(op.results?.[0]?.data) === TRANSPARENT_MODE) out.add(part[k]!);
      });
    }
    return out;
  }

  /** Whether some transparent-mode row of these has not ended yet. */
  static pending(rows: readonly DistributionDeviceRow[]): boolean {
    return rows.some((r) => r.mode === 'transparent' && (r.state === 'queued' || r.state === 'sent'));
  }

  /** Starts the transparent-mode rows not started yet; each ends in its row (nothing is awaited here). */
  start(dist: DistributionRow, rows: readonly DistributionDeviceRow[]): void {
    for (const row of rows) if (row.mode === 'transparent' && row.state === 'queued') this.work(dist, row, () => this.run(dist, row));
  }

  /**
   * After a restart (from the distributions' recover): rows not started are started; rows whose
   * commands were queued are waited for again, for what is left of their time.
   */
  async sweep(dist: DistributionRow, rows: readonly DistributionDeviceRow[]): Promise<void> {
    this.start(dist, rows);
    for (const row of rows) {
      if (row.mode !== 'transparent' || row.state !== 'sent' || !row.object) continue;
      const object = row.object === 'scomo' ? 'scomo' : 'fumo';
      this.work(dist, row, async () => {
        const mine = (await this.deps.store.listOperations(row.deviceId, { limit: 200 }))
          .filter((op) => op.correlator === correlator(dist))
          .reverse();
        if (mine.length === 0) return this.run(dist, row); // stopped before queuing: nothing ran, it starts now
        if (mine.length !== updateCommands(object, dist).length) {
          await this.cancel(mine);
          return this.end(dist, row, { state: 'failed', meaning: 'the server stopped while queuing the commands; none was executed' });
        }
        // none taken: triggered again, with the whole timeout (the server may have been down longer than it)
        const untaken = mine.every((op) => op.state === 'queued');
        if (untaken && !(await this.trigger(dist, row, mine))) return;
        const left = untaken ? timeoutMs(dist) : row.updatedAt + timeoutMs(dist) - this.deps.now();
        const ops = await this.deps.gateways.service.settle(
          mine.map((o) => o.id),
          Math.max(0, left),
          true,
        );
        await this.finish(dist, { ...row, object }, ops);
      });
    }
  }

  private work(dist: DistributionRow, row: DistributionDeviceRow, fn: () => Promise<void>): void {
    const key = `${dist.id}\n${row.deviceId}`;
    if (this.working.has(key)) return;
    this.working.add(key);
    void fn()
      .catch(async (err) => {
        this.deps.log('distribution.error', { id: dist.id, deviceId: row.deviceId, error: String(err) });
        const meaning = `the server could not drive the device: ${err instanceof Error ? err.message : String(err)}`;
        await this.end(dist, row, { state: 'failed', meaning }).catch(() => undefined);
      })
      .finally(() => this.working.delete(key));
  }

  private async run(dist: DistributionRow, row: DistributionDeviceRow): Promise<void> {
    const service = this.deps.gateways.service;
    const deadline = this.deps.now() + timeoutMs(dist);
    if (!(await this.deps.store.getDevice(row.deviceId)))
      return this.end(dist, row, {
        state: 'failed',
        meaning: `the device is in transparent mode and has no account on this server (POST /api/devices): the server cannot manage it`,
      });
    let object = row.object;
    if (!object) {
      // object "auto": its tree is read in a session of its own, as the fanout's probe reads a proxy device's
      const probe = await this.queue(
        row.deviceId,
        [
          { kind: 'Get', path: FUMO_ROOT },
          { kind: 'Get', path: SCOMO_ROOT },
        ],
        `${correlator(dist)}-probe`,
      );
      if (!(await this.trigger(dist, row, probe))) return;
      const [f, s] = await service.settle(
        probe.map((o) => o.id),
        Math.max(0, deadline - this.deps.now()),
      );
      if (!f || !s || open(f) || open(s)) {
        await this.cancel(probe);
        return this.end(dist, row, { state: 'failed', status: 408, meaning: 'the device did not answer the probe of its tree in time' });
      }
      const found = f.status === 200 ? 'fumo' : s.status === 200 ? 'scomo' : undefined;
      if (!found)
        return this.end(dist, row, {
          state: 'failed',
          ...(f.status !== undefined ? { status: f.status } : {}),
          meaning: `the device shows neither ${FUMO_ROOT} nor ${SCOMO_ROOT} (Get answered ${f.status}, ${s.status})`,
        });
      object = found;
    }
    const kind = object === 'scomo' ? 'scomo' : 'fumo';
    // sent before anything is queued: a restart finds its commands by Correlator (sweep), or none
    const sent: DistributionDeviceRow = { ...row, object, state: 'sent', updatedAt: this.deps.now() };
    await this.deps.update(dist.id, [sent]);
    const ops = await this.queue(row.deviceId, updateCommands(kind, dist), correlator(dist));
    if (!(await this.trigger(dist, sent, ops))) return;
    await this.finish(
      dist,
      sent,
      await service.settle(
        ops.map((o) => o.id),
        Math.max(0, deadline - this.deps.now()),
        true,
      ),
    );
  }

  /** Every command carries the row's Correlator (only the Exec's goes on the wire): a restart finds them by it. */
  private async queue(deviceId: string, commands: readonly NewOperation[], tag: string): Promise<OperationRow[]> {
    const out: OperationRow[] = [];
    for (const c of commands) out.push(await this.deps.gateways.service.queue(deviceId, { ...c, correlator: tag }));
    return out;
  }

  /**
   * Wakes the device through its gateway. False (and the row failed, its commands cancelled) when
   * the gateway refused to forward the trigger and the device has not taken them on its own.
   */
  private async trigger(dist: DistributionRow, row: DistributionDeviceRow, ops: readonly OperationRow[]): Promise<boolean> {
    let why: string | undefined;
    try {
      const r = await this.deps.gateways.notifyVia(dist.gatewayId, row.deviceId, 0, 10_000);
      // an unanswered trigger may still be delivered: the timeout decides
      if (r.done && r.value!.status !== 200)
        why = `the gateway did not forward its trigger: EDTrigger answered ${r.value!.status} (${TRIGGER[r.value!.status] ?? 'refused'})`;
    } catch (err) {
      why = `no trigger could be sent: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (why === undefined) return true;
    const now = await Promise.all(ops.map((o) => this.deps.store.getOperation(o.id)));
    if (now.some((o) => o && o.state !== 'queued')) return true; // it came on its own meanwhile
    await this.cancel(ops);
    await this.end(dist, row, { state: 'failed', meaning: why });
    return false;
  }

  private async cancel(ops: readonly OperationRow[]): Promise<void> {
    for (const op of ops)
      if (op.state === 'queued' || (await this.deps.store.getOperation(op.id))?.state === 'queued')
        await this.deps.store.cancelOperation(op.id, 408, this.deps.now());
  }

  /** The row from its commands as they ended, or as the timeout found them. */
  private async finish(dist: DistributionRow, row: DistributionDeviceRow, ops: readonly OperationRow[]): Promise<void> {
    const exec = ops[ops.length - 1];
    const s = timeoutMs(dist) / 1000;
    if (!exec || exec.state === 'queued') {
      await this.cancel(ops);
      return this.end(dist, row, {
        state: 'failed',
        status: 408,
        meaning: `the device did not open a session with the server within the distribution's timeout (${s} s) after its trigger`,
      });
    }
    if (exec.state === 'sent')
      return this.end(dist, row, {
        state: 'failed',
        status: 408,
        meaning: `the commands were sent and not answered within the timeout (${s} s)`,
      });
    if (exec.state === 'accepted')
      return this.end(dist, row, {
        state: 'failed',
        status: 202,
        meaning: `the device accepted the Exec (202) but its Generic Alert with the result did not come within the distribution's timeout (${s} s)`,
      });
    if (exec.state === 'indoubt')
      return this.end(dist, row, { state: 'failed', meaning: `the Exec was sent and no status came back: whether it ran is unknown` });
    const cmds = ops.map((o) => {
      const data = text(o.results?.[0]?.data);
      return { status: o.status ?? 0, ...(data !== undefined ? { data } : {}) };
    });
    return this.end(dist, row, deviceOutcome(row.object === 'scomo' ? 'scomo' : 'fumo', cmds));
  }

  private async end(
    dist: DistributionRow,
    row: DistributionDeviceRow,
    outcome: Pick<DistributionDeviceRow, 'state' | 'status' | 'resultCode' | 'meaning'>,
  ): Promise<void> {
    const { status: _s, resultCode: _r, meaning: _m, ...base } = row;
    await this.deps.update(dist.id, [{ ...base, ...outcome, updatedAt: this.deps.now() }]);
    this.deps.log('distribution.transparent', { id: dist.id, deviceId: row.deviceId, state: outcome.state, code: outcome.resultCode });
    await this.deps.ended(dist.id);
  }
}
