// Devices that move mid-distribution (docs/updates.md, "Moved"): a device the gateway it left
// reports not reached (nothing of its update can have run there) and that another gateway has
// announced since is sent its step again by that gateway, with that gateway's copy of the image,
// within what is left of the distribution's timeout. The follow is written into the distribution's
// fanout list before its rows change and before anything is sent, so a restarted server finds it
// (recover starts it again if the new gateway never got it) and never decides it twice.
import { Counter, type Registry } from 'prom-client';

import type { DistributionDeviceRow, DistributionFollow, DistributionRow, ServerStore } from '../store/server.ts';
import type { GatewayService } from './gateways.ts';
import { type NewOperation, ServiceError } from './service.ts';

type Fanout = DistributionRow['fanouts'][number];

export interface ExecResult {
  readonly status: number;
  readonly data?: string;
  /** the gateway sent it and heard nothing back: it may have run */
  readonly inDoubt?: boolean;
}

/**
 * Whether nothing of the update can have reached the device: no command was run for it (detached,
 * 410, reads as status 0: no Cmd results), or, for a DM device, its Exec was cancelled unsent (408,
 * not in doubt). An LwM2M device's 408 may come after its Update ran, so only the first counts there.
 */
export function notReached(object: DistributionDeviceRow['object'], exec: ExecResult | undefined): boolean {
  if (!exec || exec.inDoubt) return false;
  if (exec.status === 0 || exec.status === 410) return true;
  return object !== 'lwm2m' && exec.status === 408;
}

/** The fanout now answerable for a device's row: the last follow that took it, else its object's fanout. */
export function owner(dist: DistributionRow, row: DistributionDeviceRow): string {
  const follows = dist.fanouts.filter((f) => f.follow?.devices.includes(row.deviceId));
  return follows.at(-1)?.name ?? `${dist.id}.${row.object === 'scomo' ? 'scomo' : 'fumo'}`;
}

/** The gateway a fanout of the distribution runs on. */
export function fanoutGateway(dist: DistributionRow, f: Fanout): string {
  return f.follow?.gatewayId ?? dist.gatewayId;
}

export class DistributionFollower {
  /** devices followed, and those that moved but could not be (image not there, no time left): for /metrics */
  readonly counts = { followed: 0, notStaged: 0, outOfTime: 0 };
  private readonly store: ServerStore;
  private readonly gateways: GatewayService;
  private readonly now: () => number;
  private readonly log: (e: string, f: Record<string, unknown>) => void;
  private readonly commands: (
    object: 'fumo' | 'scomo',
    d: Pick<DistributionRow, 'id' | 'image' | 'url' | 'hash' | 'version'>,
  ) => NewOperation[];
  /** stores rows and tells the distribution's watchers */
  private readonly update: (id: string, rows: readonly DistributionDeviceRow[]) => Promise<void>;

  constructor(
    store: ServerStore,
    gateways: GatewayService,
    now: () => number,
    log: (e: string, f: Record<string, unknown>) => void,
    commands: DistributionFollower['commands'],
    update: DistributionFollower['update'],
  ) {
    this.store = store;
    this.gateways = gateways;
    this.now = now;
    this.log = log;
    this.commands = commands;
    this.update = update;
  }

  /**
   * `ended`: rows fanout `f` just gave their outcome, with each device's Exec result. Those not
   * reached whose device is now announced elsewhere come back as sent to that gateway (the follow
   * is stored in the distribution first; `start` then sends it, once the rows are written), or
   * failed with why they could not be followed; the others as they were.
   */
  async divert(
    dist: DistributionRow,
    f: Fanout,
    ended: readonly DistributionDeviceRow[],
    execs: ReadonlyMap<string, ExecResult>,
  ): Promise<{ rows: DistributionDeviceRow[]; start: () => Promise<void> }> {
    const from = fanoutGateway(dist, f);
    const rows = new Map(ended.map((r) => [r.deviceId, r]));
    const to = new Map<string, DistributionDeviceRow[]>();
    for (const r of ended) {
      if (r.state !== 'failed' || !notReached(r.object, execs.get(r.deviceId))) continue;
      const at = (await this.store.getLocation(r.deviceId))?.gatewayId;
      if (at === undefined || at === from) continue;
      to.set(at, [...(to.get(at) ?? []), r]);
    }
    if (to.size === 0) return { rows: [...ended], start: async () => {} };
    const latest = (await this.store.getDistribution(dist.id)) ?? dist;
    const added: Fanout[] = [];
    let n = latest.fanouts.filter((x) => x.follow).length;
    for (const [gatewayId, moved] of to) {
      const failed = (meaning: string, counter: 'notStaged' | 'outOfTime'): void => {
        this.counts[counter] += moved.length;
        this.log('distribution.follow', { id: dist.id, from, to: gatewayId, devices: moved.map((r) => r.deviceId), outcome: meaning });
        for (const r of moved) rows.set(r.deviceId, { ...r, meaning, gatewayId, updatedAt: this.now() });
      };
      const left = dist.timeout === undefined ? undefined : Math.floor((dist.createdAt + dist.timeout * 1000 - this.now()) / 1000);
      if (left !== undefined && left < 1) {
        failed(`moved to ${gatewayId} after the distribution's timeout (${dist.timeout} s) ran out`, 'outOfTime');
        continue;
      }
      const image = await this.imageAt(gatewayId, dist).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
      if (typeof image === 'string') {
        failed(`moved to ${gatewayId}, where image ${dist.image} is not staged (${image})`, 'notStaged');
        continue;
      }
      for (const object of ['fumo', 'scomo'] as const) {
        const devices = moved.filter((r) => (r.object === 'scomo' ? 'scomo' : 'fumo') === object);
        if (devices.length === 0) continue;
        n++;
        const follow: DistributionFollow = {
          gatewayId,
          from: f.name,
          devices: devices.map((r) => r.deviceId),
          ...image,
          ...(left !== undefined ? { timeout: left } : {}),
        };
        added.push({ name: `${dist.id}.follow${n}`, correlator: `dist:${dist.id}:follow${n}`, object, done: false, follow });
        this.counts.followed += devices.length;
        this.log('distribution.follow', { id: dist.id, from, to: gatewayId, fanout: `${dist.id}.follow${n}`, devices: follow.devices });
        for (const r of devices)
          rows.set(r.deviceId, {
            distributionId: r.distributionId,
            deviceId: r.deviceId,
            ...(r.object ? { object: r.object } : {}),
            state: 'sent',
            meaning: `not reached at ${from} (${execs.get(r.deviceId)?.status || 'no result'}): moved to ${gatewayId}, sent again there`,
            gatewayId,
            updatedAt: this.now(),
          });
      }
    }
    if (added.length > 0) await this.store.putDistribution({ ...latest, fanouts: [...latest.fanouts, ...added], updatedAt: this.now() });
    return {
      rows: [...rows.values()],
      start: async () => {
        for (const x of added) await this.start(dist, x);
      },
    };
  }

  /**
   * Sends a stored follow's fanout (again: recover calls it when the gateway does not hold it). One
   * the gateway's service refuses ends its devices failed and the follow done, as a refused start does.
   */
  async start(dist: DistributionRow, f: Fanout): Promise<void> {
    const follow = f.follow;
    if (!follow || f.object === 'probe' || f.object === 'lwm2m') return;
    try {
      await this.gateways.startFanout(
        follow.gatewayId,
        {
          name: f.name,
          devices: follow.devices,
          commands: this.commands(f.object, { id: dist.id, hash: dist.hash, ...follow }),
          ...(follow.timeout !== undefined ? { timeout: follow.timeout } : {}),
        },
        0,
        f.correlator,
      );
    } catch (err) {
      const meaning = `moved to ${follow.gatewayId}, which did not take the fanout: ${err instanceof Error ? err.message : String(err)}`;
      this.log('distribution.follow', { id: dist.id, to: follow.gatewayId, fanout: f.name, outcome: meaning });
      const rows = (await this.store.listDistributionDevices(dist.id)).filter(
        (r) => follow.devices.includes(r.deviceId) && r.state !== 'succeeded' && r.state !== 'failed',
      );
      await this.update(
        dist.id,
        rows.map((r) => ({ ...r, state: 'failed' as const, meaning, gatewayId: follow.gatewayId, updatedAt: this.now() })),
      );
      const latest = (await this.store.getDistribution(dist.id)) ?? dist;
      await this.store.putDistribution({
        ...latest,
        fanouts: latest.fanouts.map((x) => (x.name === f.name ? { ...x, done: true } : x)),
        updatedAt: this.now(),
      });
    }
  }

  /** The distribution's image as `gatewayId` holds it: the entry of its Images MO with the same bytes. */
  private async imageAt(gatewayId: string, dist: DistributionRow): Promise<{ image: string; url: string; version: string }> {
    const held = await this.gateways.gatewayImages(gatewayId, 10_000);
    if (!held.done) throw new ServiceError(504, `gateway ${gatewayId} did not answer`);
    const name = Object.entries(held.value ?? {}).find(([, e]) => typeof e === 'object' && e['Hash'] === dist.hash)?.[0];
    if (name === undefined) throw new ServiceError(409, `no image with its hash in ${gatewayId}'s store`);
    const { url, version } = await this.gateways.imageOnGateway(gatewayId, name, 10_000);
    return { image: name, url, version };
  }
}

/** gwmo_distribution_follows_total{outcome}: followed, not_staged, out_of_time (devices) */
export function countFollows(registry: Registry, counts: DistributionFollower['counts']): void {
  const read = { followed: () => counts.followed, not_staged: () => counts.notStaged, out_of_time: () => counts.outOfTime };
  const counted = new Map<string, number>();
  new Counter({
    name: 'gwmo_distribution_follows_total',
    help: 'devices not reached at the gateway they left mid-distribution: followed to the new one, or not (outcome)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      for (const [outcome, now] of Object.entries(read)) {
        const n = now();
        this.inc({ outcome }, n - (counted.get(outcome) ?? 0));
        counted.set(outcome, n);
      }
    },
  });
}
