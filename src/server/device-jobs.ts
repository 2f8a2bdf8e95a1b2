// Jobs for a device behind a gateway that follow the device (HLF-002, B.4): the server knows where
// each device is from the gateways' deviceattached alerts; a job runs as a one-device fanout on that
// gateway, and when the device turns up behind another gateway before it finished, the job is sent
// there. The device's result comes back in the resultaggregation alert of whichever fanout ran it.
import { randomUUID } from 'node:crypto';

import type { GenericAlert } from '../session/server/index.ts';
import type { DeviceJobRow, ServerStore } from '../store/server.ts';
import { type GatewayService, nodeName, type Tree } from './gateways.ts';

import { checkOperation, requireIdentifier, ServiceError, type NewOperation } from './service.ts';

const dataText = (a: GenericAlert): string => {
  const d = a.items[0]?.data;
  return typeof d === 'string' ? d : d ? Buffer.from(d).toString('utf8') : '';
};

export class DeviceJobs {
  private readonly store: ServerStore;
  private readonly gateways: GatewayService;
  private readonly now: () => number;
  private readonly log: (e: string, f: Record<string, unknown>) => void;
  private readonly waiters = new Map<string, ((job: DeviceJobRow) => void)[]>();

  constructor(
    store: ServerStore,
    gateways: GatewayService,
    now: () => number,
    log: (e: string, f: Record<string, unknown>) => void = () => {},
  ) {
    this.store = store;
    this.gateways = gateways;
    this.now = now;
    this.log = log;
  }

  async create(deviceId: string, commands: readonly NewOperation[]): Promise<DeviceJobRow> {
    requireIdentifier(deviceId, 'deviceId');
    if (commands.length === 0) throw new ServiceError(400, 'a job needs commands: [{"kind":"Get","path":"./DevInfo/Mod"}, …]');
    commands.forEach((c, i) => checkOperation(c, `commands[${i}]: `));
    if (!(await this.store.getLocation(deviceId)))
      throw new ServiceError(404, `no gateway has announced "${deviceId}" (its deviceattached alert sets where it is)`);
    const job: DeviceJobRow = {
      id: randomUUID(),
      deviceId,
      state: 'pending',
      createdAt: this.now(),
      updatedAt: this.now(),
      commands: commands.map((c) => ({
        kind: c.kind,
        path: c.path,
        ...(c.value !== undefined ? { value: c.value } : {}),
        ...(c.format ? { format: c.format } : {}),
      })),
    };
    await this.store.putDeviceJob(job);
    return this.dispatch(job);
  }

  /** the gateway a device was last announced behind (HLF-002) */
  async location(deviceId: string): Promise<{ gatewayId: string; at: number }> {
    const at = await this.store.getLocation(deviceId);
    if (!at) throw new ServiceError(404, `no gateway has announced "${deviceId}"`);
    return at;
  }

  /** the job once it is done, or as it is after `timeoutMs` */
  async settle(id: string, timeoutMs: number): Promise<DeviceJobRow> {
    const job = await this.get(id);
    if (job.state === 'done' || timeoutMs <= 0) return job;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.set(
          id,
          (this.waiters.get(id) ?? []).filter((w) => w !== done),
        );
        resolve(this.get(id));
      }, timeoutMs);
      const done = (j: DeviceJobRow): void => {
        clearTimeout(timer);
        resolve(j);
      };
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), done]);
      // it may have finished between the first look and now
      void this.store.getDeviceJob(id).then(
        (j) => j && this.jobChanged(j),
        () => undefined,
      );
    });
  }

  async get(id: string): Promise<DeviceJobRow> {
    const job = await this.store.getDeviceJob(id);
    if (!job) throw new ServiceError(404, `no job "${id}"`);
    return job;
  }

  private async dispatch(job: DeviceJobRow): Promise<DeviceJobRow> {
    const at = await this.store.getLocation(job.deviceId);
    if (!at) return job;
    const attempt = `dj-${job.id.slice(0, 8)}-${Math.floor(this.now() / 1000).toString(36)}`;
    const sent: DeviceJobRow = {
      ...job,
      state: 'dispatched',
      gatewayId: at.gatewayId,
      fanout: attempt,
      correlator: randomUUID() as string,
      updatedAt: this.now(),
    };
    // stored first: the fanout's result alert may reach another server instance before startFanout returns
    await this.store.putDeviceJob(sent);
    try {
      await this.gateways.startFanout(
        at.gatewayId,
        { name: attempt, devices: [job.deviceId], commands: job.commands as NewOperation[] },
        0,
        sent.correlator!,
      );
    } catch (err) {
      await this.store.putDeviceJob(job);
      throw err;
    }
    this.log('job.dispatched', { job: job.id, deviceId: job.deviceId, gateway: at.gatewayId });
    return sent;
  }

  /** the device's answers, read back from the fanout's Results on the gateway (none if it does not answer in time) */
  private async resultsOf(job: DeviceJobRow, gatewayId: string): Promise<Pick<DeviceJobRow, 'results'>> {
    if (!job.fanout) return {};
    const r = await this.gateways.fanout(gatewayId, job.fanout, 10_000).catch(() => undefined);
    const device = r?.done ? Object.values((r.value?.['Results'] ?? {}) as Tree)[0] : undefined;
    if (!device || typeof device === 'string' || typeof device['Cmd'] !== 'object') return {};
    const cmds = Object.entries(device['Cmd'])
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, c]) => c as Tree);
    return {
      results: cmds.map((c) => ({
        status: Number(c['Status']),
        ...(typeof c['Data'] === 'string' ? { data: c['Data'] } : {}),
        ...(typeof c['Format'] === 'string' ? { format: c['Format'] } : {}),
      })),
    };
  }

  /** A job changed elsewhere (another server instance): whoever waits for it to settle hears of it. */
  jobChanged(job: DeviceJobRow): void {
    if (job.state !== 'done') return;
    for (const w of this.waiters.get(job.id) ?? []) w(job);
    this.waiters.delete(job.id);
  }

  /** Every Generic Alert from a gateway passes here. */
  async onAlert(gatewayId: string, alert: GenericAlert): Promise<void> {
    const type = alert.items[0]?.type ?? '';
    if (type.includes(':deviceattached')) {
      const id = /DeviceID="([^"]*)"/.exec(dataText(alert))?.[1]?.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
      if (!id) return;
      const before = await this.store.getLocation(id);
      await this.store.setLocation(id, gatewayId, this.now());
      if (before === undefined) this.log('device.located', { deviceId: id, gateway: gatewayId });
      if (before && before.gatewayId !== gatewayId) {
        this.log('device.moved', { deviceId: id, from: before.gatewayId, to: gatewayId });
        // the gateway it left still lists it attached until its DetachTimeout: it is told now
        void this.gateways
          .run(
            before.gatewayId,
            [{ kind: 'Replace', path: `./GwMO/DevInventory/Devices/${nodeName(id)}/Status`, value: '0', format: 'int' }],
            0,
          )
          .catch((err: unknown) => this.log('device.moved.error', { deviceId: id, gateway: before.gatewayId, error: String(err) }));
        // unfinished jobs follow the device
        for (const job of await this.store.listDeviceJobs(id)) if (job.state !== 'done') await this.dispatch(job);
      }
      return;
    }
    if (type.includes(':resultaggregation') && alert.correlator) {
      const xml = dataText(alert);
      const job = await this.store.findDeviceJob(alert.correlator);
      if (!job || job.state === 'done' || job.gatewayId !== gatewayId) return;
      const status = Number(/<Status code="(\d+)"/.exec(xml)?.[1] ?? 500);
      // an Add, Exec or Copy the device may have run (in doubt) is never sent to its next gateway
      const inDoubt = xml.includes('<InDoubt ');
      // a device that left answers 408/410 on the gateway it left: the job waits for its new home
      if (!inDoubt && (status === 408 || status === 410) && (await this.store.getLocation(job.deviceId))?.gatewayId !== gatewayId) return;
      const done: DeviceJobRow = {
        ...job,
        state: 'done',
        status,
        ...(inDoubt ? { inDoubt: true as const } : {}),
        ...(await this.resultsOf(job, gatewayId)),
        updatedAt: this.now(),
      };
      await this.store.putDeviceJob(done);
      for (const w of this.waiters.get(job.id) ?? []) w(done);
      this.waiters.delete(job.id);
      this.log('job.done', { job: job.id, deviceId: job.deviceId, gateway: gatewayId, status });
    }
  }
}
