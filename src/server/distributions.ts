// Distributions: one image the gateway holds, installed by a set of its devices, each through the
// object it carries: FUMO or SCOMO on DM devices (what the call asks, or what a probe of their
// trees finds), object 5 on LwM2M devices (the gateway's LwM2M driver turns the FUMO commands into
// it). Each object's devices are one gateway fanout; the fanout's results give each device's state
// and result code. Everything is stored as it changes, and every step is driven by the gateway's
// alerts, so a restarted server carries on where it was. Sequences: docs/updates.md.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type { GenericAlert } from '../session/server/index.ts';
import type { DistributionDeviceRow, DistributionRow, ServerStore, UpdateObject } from '../store/server.ts';
import { FUMO_ROOT, SCOMO_ROOT, updateResult } from '../tree/index.ts';
import { DistributionFollower, type ExecResult, fanoutGateway, owner } from './distribution-follow.ts';
import { downloadingRows, parseDownloads, settledBytes } from './distribution-progress.ts';
import { type GatewayService, nodeName } from './gateways.ts';
import type { NewOperation } from './service.ts';
import { requireIdentifier, ServiceError } from './service.ts';
import { TransparentUpdates } from './transparent-updates.ts';

export interface DistributionSpec {
  /** the image's name in the gateway's store (POST /api/gateways/{gw}/images) */
  readonly image: string;
  readonly devices?: readonly string[];
  readonly groups?: readonly string[];
  /** DM devices: FUMO, SCOMO, or whichever their tree shows (FUMO first); LwM2M devices: object 5 always */
  readonly object?: 'auto' | 'fumo' | 'scomo';
  /** the distribution's id (default: a new one) */
  readonly name?: string;
  /** seconds each device has, download and install included */
  readonly timeout?: number;
}

export interface DistributionView extends DistributionRow {
  readonly devices: readonly DistributionDeviceRow[];
}

const NAME = /^[A-Za-z0-9\-_.]{1,64}$/;
const GROUP = /^[A-Za-z0-9\-_.!~*'():@&=+$,]+$/;
const INV = './GwMO/DevInventory';
/** Gets per run when reading the targets' protocols or a fanout's results */
const CHUNK = 500;
/** a running fanout's results are read for a live view up to this many devices */
const LIVE_LIMIT = 300;
const CORRELATOR = /^dist:([A-Za-z0-9\-_.]+):(probe|fumo|scomo|follow\d+)$/;
const OBJECT_5_SUCCESS = 1;

/** What each device is told: the same commands for every device of one object's fanout. */
export function updateCommands(
  object: 'fumo' | 'scomo',
  d: Pick<DistributionRow, 'id' | 'image' | 'url' | 'hash' | 'version'>,
): NewOperation[] {
  if (object === 'fumo')
    return [
      { kind: 'Replace', path: `${FUMO_ROOT}/PkgName`, value: d.image },
      { kind: 'Replace', path: `${FUMO_ROOT}/PkgVersion`, value: d.version },
      { kind: 'Replace', path: `${FUMO_ROOT}/DownloadAndUpdate/PkgURL`, value: d.url },
      { kind: 'Replace', path: `${FUMO_ROOT}/Ext/PkgHash`, value: d.hash },
      { kind: 'Exec', path: `${FUMO_ROOT}/DownloadAndUpdate` },
    ];
  // a Download/<x> of its own per distribution: an earlier one's node keeps its URL and its Status
  const x = `${SCOMO_ROOT}/Download/${d.image}.${d.id}`;
  return [
    { kind: 'Add', path: x, format: 'node' },
    { kind: 'Add', path: `${x}/PkgID`, value: d.image },
    { kind: 'Add', path: `${x}/Name`, value: d.image },
    { kind: 'Add', path: `${x}/PkgURL`, value: d.url },
    { kind: 'Replace', path: `${x}/Ext/PkgHash`, value: d.hash },
    { kind: 'Replace', path: `${x}/Ext/Version`, value: d.version },
    { kind: 'Exec', path: `${x}/Operations/DownloadInstall` },
  ];
}

type CmdResult = ExecResult;

/** A device's end from its commands' results: succeeded or failed, with the device's result code and what it means. */
export function deviceOutcome(
  object: UpdateObject,
  cmds: readonly CmdResult[],
): Pick<DistributionDeviceRow, 'state' | 'status' | 'resultCode' | 'meaning'> {
  const exec = cmds[cmds.length - 1];
  if (!exec) return { state: 'failed', meaning: 'the gateway reported no result' };
  const status = exec.status;
  if (object === 'lwm2m') {
    const m = /Update Result (\d+): ?(.*)/.exec(exec.data ?? '');
    if (status === 200) return { state: 'succeeded', status, resultCode: OBJECT_5_SUCCESS, meaning: 'Firmware updated successfully' };
    if (m) return { state: 'failed', status, resultCode: Number(m[1]), meaning: m[2]! };
  } else {
    const m = /^\s*(?:<ResultCode>)?(\d{3,4})\b/.exec(exec.data ?? '');
    if (m) {
      const code = Number(m[1]);
      const r = updateResult(code);
      return { state: r.ok && status === 200 ? 'succeeded' : 'failed', status, resultCode: code, meaning: r.meaning };
    }
  }
  if (status === 200) return { state: 'succeeded', status };
  // failed before the device could report: the first command that did not go through says why
  const first = cmds.findIndex((c) => c.status >= 300);
  const why = first >= 0 && first < cmds.length - 1 ? `command ${first + 1} answered ${cmds[first]!.status}` : `DM status ${status}`;
  return { state: 'failed', status, meaning: `${why}${exec.data ? `: ${exec.data}` : ''}` };
}

export class Distributions {
  /** `change` (distribution id, the rows that changed), `end` (distribution id) */
  readonly events = new EventEmitter();
  private readonly store: ServerStore;
  private readonly gateways: GatewayService;
  private readonly now: () => number;
  private readonly log: (e: string, f: Record<string, unknown>) => void;
  /** what a probe found on a DM device, kept by this instance (a device's objects seldom change) */
  private readonly known = new Map<string, 'fumo' | 'scomo'>();
  /** per running fanout: how many devices had finished when its results were last read for a live view */
  private readonly seen = new Map<string, number>();
  /** distributions this process is starting (not a cut start for recover to take over) */
  private readonly starting = new Set<string>();
  /** fanouts the gateway was seen to hold (`<distribution>\n<fanout>`): not asked about again */
  private readonly held = new Set<string>();
  /** a question about a fanout the gateway has not answered yet (its operation id): not asked twice */
  private readonly asking = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  /** devices in transparent mode: driven on their own queues, not by a fanout */
  private readonly transparent: TransparentUpdates;
  /** devices that moved mid-distribution, sent again through their new gateway */
  readonly follower: DistributionFollower;

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
    this.follower = new DistributionFollower(store, gateways, now, log, updateCommands, (id, rows) => this.update(id, rows));
    this.events.setMaxListeners(0);
    this.transparent = new TransparentUpdates({
      store,
      gateways,
      now,
      log,
      update: (id, rows) => this.update(id, rows),
      ended: (id) => this.finishIfDone(id),
    });
  }

  /** Starts a distribution on one gateway: resolves its devices and their objects, stores it, starts its fanouts. */
  async start(gatewayId: string, spec: DistributionSpec, waitMs: number): Promise<DistributionView> {
    const name = spec.name ?? `dist-${randomUUID().slice(0, 8)}`;
    const mine = !this.starting.has(name);
    if (mine) this.starting.add(name);
    try {
      return await this.startOnce(gatewayId, { ...spec, name }, waitMs);
    } finally {
      if (mine) this.starting.delete(name);
    }
  }

  private async startOnce(gatewayId: string, spec: DistributionSpec, waitMs: number): Promise<DistributionView> {
    const object = spec.object ?? 'auto';
    if (!['auto', 'fumo', 'scomo'].includes(object)) throw new ServiceError(400, 'object must be "auto", "fumo" or "scomo"');
    const id = spec.name ?? `dist-${randomUUID().slice(0, 8)}`;
    if (!NAME.test(id)) throw new ServiceError(400, `name "${id}" must be 1–64 letters, digits, "-", "_" or "."`);
    if (await this.store.getDistribution(id)) throw new ServiceError(409, `a distribution named "${id}" exists; choose another name`);
    if (spec.timeout !== undefined && (!Number.isInteger(spec.timeout) || spec.timeout < 1 || spec.timeout > 86_400))
      throw new ServiceError(400, 'timeout must be 1–86400 seconds');
    (spec.devices ?? []).forEach((d, i) => requireIdentifier(d, `devices[${i}]`));
    if ((spec.devices ?? []).length === 0 && (spec.groups ?? []).length === 0)
      throw new ServiceError(400, 'a distribution needs targets: "devices": [...] and/or "groups": [...]');
    const image = await this.gateways.imageOnGateway(gatewayId, spec.image, waitMs);
    const targets = await this.targets(gatewayId, spec, waitMs);
    const dmDevices = targets.filter((t) => !t.protocol.startsWith('LwM2M')).map((t) => t.deviceId);
    const transparent = await this.transparent.of(gatewayId, dmDevices, waitMs);
    const now = this.now();
    const rows: DistributionDeviceRow[] = targets.map(({ deviceId, protocol }) => {
      const known = protocol.startsWith('LwM2M') ? 'lwm2m' : object === 'auto' ? this.known.get(deviceId) : object;
      const mode = transparent.has(deviceId) ? { mode: 'transparent' as const } : {};
      return { distributionId: id, deviceId, state: 'queued', updatedAt: now, ...(known ? { object: known } : {}), ...mode };
    });
    const dist: DistributionRow = {
      id,
      gatewayId,
      image: spec.image,
      ...image,
      object,
      state: rows.some((r) => !r.object && !r.mode) ? 'probing' : 'running',
      fanouts: [],
      ...(spec.timeout !== undefined ? { timeout: spec.timeout } : {}),
      createdAt: now,
      updatedAt: now,
    };
    // stored before any fanout starts: its alerts may come back before start returns; a start of
    // the same name that got here first keeps it (the check above only spares the gateway's Gets)
    if (!(await this.store.insertDistribution(dist)))
      throw new ServiceError(409, `a distribution named "${id}" exists; choose another name`);
    await this.store.putDistributionDevices(rows);
    this.log('distribution.start', { id, gateway: gatewayId, devices: rows.length, object, transparent: transparent.size });
    if (dist.state === 'probing')
      await this.probe(
        dist,
        rows.filter((r) => !r.object && !r.mode).map((r) => r.deviceId),
      );
    else await this.send(dist, rows);
    // after the fanouts are recorded: a device that ends at once must not end the distribution before them
    this.transparent.start(dist, rows);
    return this.get(id);
  }

  /**
   * The same image to devices wherever they are: grouped by the gateway each was last announced
   * behind, one distribution per gateway, each under the name the image is staged with there.
   */
  async startAcross(spec: Omit<DistributionSpec, 'groups'> & { image: string }, waitMs: number): Promise<DistributionView[]> {
    const image = await this.image(spec.image);
    if ((spec.devices ?? []).length === 0) throw new ServiceError(400, 'devices: a non-empty array of DeviceIDs is required');
    const byGateway = await this.locate(spec.devices ?? []);
    const stagedAs = await this.stagedNames(image, byGateway.keys(), waitMs);
    const base = spec.name ?? `dist-${randomUUID().slice(0, 8)}`;
    const out: DistributionView[] = [];
    let n = 0;
    for (const [gatewayId, devices] of byGateway)
      out.push(
        await this.start(
          gatewayId,
          { ...spec, image: stagedAs.get(gatewayId)!, devices, name: byGateway.size === 1 ? base : `${base}.${++n}` },
          waitMs,
        ),
      );
    return out;
  }

  /** An image uploaded to this server, by id (404 when there is none). */
  async image(id: string): Promise<{ id: string; sha256: string }> {
    const image = await this.gateways.images?.get(id);
    if (!image) throw new ServiceError(404, `no image "${id}" on this server; upload it with POST /api/images`);
    return image;
  }

  /**
   * Looks for distributions whose start was cut (the server died after storing one and before its
   * gateway held its fanouts), now and then every `ms`; see recover.
   */
  startTicking(ms: number, graceMs: number): void {
    const tick = (): Promise<void> => this.recover(graceMs).catch((err) => this.log('distribution.error', { error: String(err) }));
    void tick();
    this.timer = setInterval(() => void tick(), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Every distribution not done and unchanged for `graceMs` that no start in this process is
   * working on: one stored without fanouts is started now; of one with fanouts, the gateway is asked
   * (one Get, queued after any Add that may be on its way) for each fanout whose end it has not
   * reported, and one it does not hold is started again under its name. Neither can reach a
   * device twice: a fanout the gateway holds is left to run. docs/updates.md, Restarts.
   */
  async recover(graceMs: number, waitMs = 10_000): Promise<void> {
    for (const d of await this.store.listDistributions({ limit: 1000 })) {
      if (d.state === 'done' || this.starting.has(d.id) || this.now() - d.updatedAt < graceMs) continue;
      const rows = await this.store.listDistributionDevices(d.id);
      await this.transparent.sweep(d, rows);
      if (d.fanouts.length === 0 && !rows.some((r) => !r.mode && r.state === 'queued')) {
        await this.finishIfDone(d.id); // only transparent-mode devices: no fanout to start
        continue;
      }
      if (d.fanouts.length === 0) {
        this.log('distribution.recover', { id: d.id, why: 'stored without a fanout' });
        if (d.state === 'probing')
          await this.probe(
            d,
            rows.filter((r) => !r.object && !r.mode && r.state === 'queued').map((r) => r.deviceId),
          );
        else await this.send(d, rows);
        continue;
      }
      for (const f of d.fanouts) {
        const key = `${d.id}\n${f.name}`;
        if (f.done || f.ended || this.held.has(key)) continue;
        // a gateway that did not answer is not asked again (its Get stays queued): the next round reads that Get
        const pending = this.asking.get(key);
        const op = pending
          ? await this.store.getOperation(pending)
          : (await this.gateways.run(fanoutGateway(d, f), [{ kind: 'Get', path: `./GwMO/Fanout/${f.name}/Progress/Done` }], waitMs))
              .operations[0];
        if (!op || op.state === 'queued' || op.state === 'sent') {
          if (op) this.asking.set(key, op.id);
          break;
        }
        this.asking.delete(key);
        if (op.status !== 404) {
          this.held.add(key);
          continue;
        }
        this.log('distribution.recover', { id: d.id, fanout: f.name, why: 'the gateway does not hold it' });
        if (f.follow) {
          await this.follower.start(d, f);
          await this.finishIfDone(d.id);
          continue;
        }
        const latest = (await this.store.getDistribution(d.id)) ?? d;
        const rest = { ...latest, fanouts: latest.fanouts.filter((x) => x.name !== f.name) };
        if (f.object === 'probe')
          await this.probe(
            rest,
            rows.filter((r) => !r.object && !r.mode && r.state === 'queued').map((r) => r.deviceId),
          );
        else {
          const again = rows
            .filter(
              (r) =>
                !r.mode &&
                (r.state === 'queued' || r.state === 'sent' || r.state === 'downloading') &&
                (r.object === f.object || (f.object === 'fumo' && r.object === 'lwm2m')) &&
                owner(d, r) === f.name,
            )
            .map((r) => ({ ...r, state: 'queued' as const }));
          await this.send(rest, again);
        }
        break; // the row changed: the next round looks at its other fanouts
      }
    }
  }

  /** The devices grouped by the gateway each was last announced behind (404 naming those none has announced). */
  async locate(devices: readonly string[]): Promise<Map<string, string[]>> {
    const byGateway = new Map<string, string[]>();
    const nowhere: string[] = [];
    for (const d of devices) {
      requireIdentifier(d, 'devices[]');
      const at = await this.store.getLocation(d);
      if (!at) nowhere.push(d);
      else {
        const list = byGateway.get(at.gatewayId) ?? [];
        if (list.length === 0) byGateway.set(at.gatewayId, list);
        list.push(d);
      }
    }
    if (nowhere.length > 0)
      throw new ServiceError(
        404,
        `no gateway has announced ${nowhere.slice(0, 5).join(', ')}${nowhere.length > 5 ? ` and ${nowhere.length - 5} more` : ''}`,
      );
    return byGateway;
  }

  /**
   * The name a server image has in each gateway's store: the entry of the gateway's Images MO
   * naming this upload (or these bytes); 409 when one of them does not hold it (ready).
   */
  async stagedNames(image: { id: string; sha256: string }, gateways: Iterable<string>, waitMs: number): Promise<Map<string, string>> {
    const want = [...gateways];
    // the name it has on each gateway: the entry of the gateway's Images MO naming this upload (or these bytes)
    const stagedAs = new Map<string, string>();
    for (const g of want) {
      const held = await this.gateways.gatewayImages(g, waitMs);
      if (!held.done) throw new ServiceError(504, `gateway ${g} did not answer within the wait; try again`);
      const entries = Object.entries(held.value!).filter(([, e]) => typeof e === 'object' && typeof e['LocalURL'] === 'string');
      const named =
        entries.find(([, e]) => typeof e === 'object' && e['ImageID'] === image.id) ??
        entries.find(([, e]) => typeof e === 'object' && e['Hash'] === `sha256:${image.sha256}`);
      if (named) stagedAs.set(g, named[0]);
    }
    const missing = [...want].filter((g) => !stagedAs.has(g));
    if (missing.length > 0)
      throw new ServiceError(
        409,
        `image ${image.id} is not staged (or not ready) on gateway ${missing.join(', ')}; stage it there first (POST /api/gateways/{gw}/images)`,
      );
    return stagedAs;
  }

  async get(id: string): Promise<DistributionView> {
    const d = await this.store.getDistribution(id);
    if (!d) throw new ServiceError(404, `no distribution "${id}"`);
    return { ...d, devices: await this.store.listDistributionDevices(id) };
  }

  list(gatewayId: string | undefined, limit: number): Promise<DistributionRow[]> {
    return this.store.listDistributions({ ...(gatewayId !== undefined ? { gatewayId } : {}), limit });
  }

  /**
   * The devices targeted, with their protocol, from the gateway's inventory: groups' members, then
   * each device's Protocol. One small Get per device (in runs of CHUNK): a whole-inventory
   * StructData does not fit one message once a gateway has a few dozen devices.
   */
  async targets(gatewayId: string, spec: DistributionSpec, waitMs: number): Promise<{ deviceId: string; protocol: string }[]> {
    const ids = new Set(spec.devices ?? []);
    const silent = (): ServiceError => new ServiceError(504, `gateway ${gatewayId} did not answer within the wait; try again`);
    for (const g of spec.groups ?? []) {
      if (!GROUP.test(g)) throw new ServiceError(400, `group name "${g}" is not a node name`);
      const path = `${INV}/Groups/${g}/Members`;
      // the members' names (one value), then each one's DeviceID: small Results, none split across messages
      const r = await this.gateways.run(gatewayId, [{ kind: 'Get', path }], waitMs);
      if (!r.done) throw silent();
      if (r.operations[0]!.status === 404) throw new ServiceError(404, `gateway ${gatewayId} has no group "${g}"`);
      const names = String(r.operations[0]!.results?.[0]?.data ?? '')
        .split('/')
        .filter(Boolean);
      for (let i = 0; i < names.length; i += CHUNK) {
        const m = await this.gateways.run(
          gatewayId,
          names.slice(i, i + CHUNK).map((n) => ({ kind: 'Get' as const, path: `${path}/${n}` })),
          waitMs,
        );
        if (!m.done) throw silent();
        for (const op of m.operations) {
          const id = op.status === 200 ? op.results?.[0]?.data : undefined;
          if (typeof id === 'string' && id !== '') ids.add(id);
        }
      }
    }
    if (ids.size === 0) throw new ServiceError(409, `the groups ${spec.groups?.join(', ')} on gateway ${gatewayId} have no members`);
    const all = [...ids];
    const out: { deviceId: string; protocol: string }[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < all.length; i += CHUNK) {
      const part = all.slice(i, i + CHUNK);
      const r = await this.gateways.run(
        gatewayId,
        part.map((id) => ({ kind: 'Get' as const, path: `${INV}/Devices/${nodeName(id)}/Protocol` })),
        waitMs,
      );
      if (!r.done) throw silent();
      r.operations.forEach((op, k) => {
        const data = op.results?.[0]?.data;
        if (op.status !== 200) unknown.push(part[k]!);
        else out.push({ deviceId: part[k]!, protocol: typeof data === 'string' ? data : '' });
      });
    }
    if (unknown.length > 0)
      throw new ServiceError(
        404,
        `gateway ${gatewayId} has no device ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`,
      );
    return out;
  }

  /** Every device in the gateway's inventory (attached or not): the names of ./GwMO/DevInventory/Devices, decoded. */
  async allDevices(gatewayId: string, waitMs: number): Promise<string[]> {
    const r = await this.gateways.run(gatewayId, [{ kind: 'Get', path: `${INV}/Devices` }], waitMs);
    if (!r.done) throw new ServiceError(504, `gateway ${gatewayId} did not answer within the wait; try again`);
    const op = r.operations[0]!;
    if (op.status !== 200) throw new ServiceError(502, `gateway ${gatewayId} answered ${op.status} to a Get of its inventory`);
    const names = String(op.results?.[0]?.data ?? '')
      .split('/')
      .filter(Boolean);
    if (names.length === 0) throw new ServiceError(409, `gateway ${gatewayId} has no devices`);
    return names.map((n) => decodeURIComponent(n));
  }

  /** Asks the DM devices whose object is not known which of ./FUMO and ./SCOMO their tree has. */
  private async probe(dist: DistributionRow, devices: readonly string[]): Promise<void> {
    const name = `${dist.id}.probe`;
    const correlator = `dist:${dist.id}:probe`;
    await this.store.putDistribution({
      ...dist,
      fanouts: [...dist.fanouts, { name, correlator, object: 'probe', done: false }],
      updatedAt: this.now(),
    });
    await this.gateways.startFanout(
      dist.gatewayId,
      {
        name,
        devices,
        commands: [
          { kind: 'Get', path: FUMO_ROOT },
          { kind: 'Get', path: SCOMO_ROOT },
        ],
      },
      0,
      correlator,
    );
  }

  /** One fanout per object: FUMO commands for FUMO and LwM2M devices, SCOMO commands for SCOMO devices. */
  private async send(dist: DistributionRow, rows: readonly DistributionDeviceRow[]): Promise<void> {
    const parts = (['fumo', 'scomo'] as const)
      .map((object) => ({
        object,
        devices: rows.filter(
          (r) => !r.mode && r.state === 'queued' && (r.object === object || (object === 'fumo' && r.object === 'lwm2m')),
        ),
      }))
      .filter((p) => p.devices.length > 0);
    let current: DistributionRow = {
      ...dist,
      // done once its fanouts and its transparent-mode devices are (finishIfDone)
      state: 'running',
      fanouts: [
        ...dist.fanouts,
        ...parts.map((p) => ({ name: `${dist.id}.${p.object}`, correlator: `dist:${dist.id}:${p.object}`, object: p.object, done: false })),
      ],
      updatedAt: this.now(),
    };
    await this.store.putDistribution(current);
    for (const p of parts) {
      // sent before the fanout starts: its end may be reported before startFanout returns
      await this.update(
        dist.id,
        p.devices.map((r) => ({ ...r, state: 'sent' as const, updatedAt: this.now() })),
      );
      try {
        await this.gateways.startFanout(
          dist.gatewayId,
          {
            name: `${dist.id}.${p.object}`,
            devices: p.devices.map((r) => r.deviceId),
            commands: updateCommands(p.object, dist),
            ...(dist.timeout !== undefined ? { timeout: dist.timeout } : {}),
          },
          0,
          `dist:${dist.id}:${p.object}`,
        );
      } catch (err) {
        const meaning = `the gateway did not take the fanout: ${err instanceof Error ? err.message : String(err)}`;
        await this.update(
          dist.id,
          p.devices.map((r) => ({ ...r, state: 'failed' as const, meaning, updatedAt: this.now() })),
        );
        current = { ...current, fanouts: current.fanouts.map((f) => (f.object === p.object ? { ...f, done: true } : f)) };
        await this.store.putDistribution(current);
      }
    }
    await this.finishIfDone(dist.id);
  }

  private async update(id: string, rows: readonly DistributionDeviceRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.store.putDistributionDevices(rows);
    this.events.emit('change', id, rows);
  }

  /**
   * Reads the results the distribution's fanouts have so far into the devices' rows, all of them for
   * a fanout whose end the gateway reported (which then counts as done). The SSE stream calls it
   * while the fanouts run, the gateway's alert at their end; calling it again finishes what a
   * silent gateway left unread.
   */
  async refresh(id: string, only?: { fanout: string }): Promise<void> {
    const dist = await this.store.getDistribution(id);
    if (!dist) return;
    const rows = new Map((await this.store.listDistributionDevices(id)).map((r) => [r.deviceId, r]));
    for (const f of dist.fanouts) {
      if (f.done || (only && f.name !== only.fanout)) continue;
      const final = f.ended === true;
      if (f.object === 'probe' && !final) continue; // a probe's answers are read once, at its end
      // the probe's two Gets; of an update, its Exec (the last command)
      const cmds = f.object === 'probe' ? [1, 2] : [updateCommands(f.object === 'scomo' ? 'scomo' : 'fumo', dist).length];
      let downloads = '';
      const results = await this.results(fanoutGateway(dist, f), f.name, final ? Number.POSITIVE_INFINITY : LIVE_LIMIT, cmds, (text) => {
        downloads = text;
      }).catch(() => undefined);
      const fetched = parseDownloads(downloads);
      if (fetched.size > 0) {
        // the rows as they are now: the gateway's alert may have ended a device since they were read
        const current = new Map((await this.store.listDistributionDevices(id)).map((r) => [r.deviceId, r]));
        const moving = downloadingRows(current, fetched, this.now());
        for (const r of moving) rows.set(r.deviceId, r);
        await this.update(id, moving);
      }
      if (!results) continue;
      const changed: DistributionDeviceRow[] = [];
      if (f.object === 'probe') {
        for (const [deviceId, cmds] of results) {
          const found = cmds[0]?.status === 200 ? 'fumo' : cmds[1]?.status === 200 ? 'scomo' : undefined;
          const row = rows.get(deviceId);
          if (!row) continue;
          if (found) this.known.set(deviceId, found);
          changed.push(
            found
              ? { ...row, object: found, updatedAt: this.now() }
              : {
                  ...row,
                  state: 'failed',
                  ...(cmds[0] ? { status: cmds[0].status } : {}),
                  meaning: `the device shows neither ${FUMO_ROOT} nor ${SCOMO_ROOT} (Get answered ${cmds.map((c) => c.status).join(', ')})`,
                  updatedAt: this.now(),
                },
          );
        }
        for (const row of rows.values())
          if (!row.object && !row.mode && row.state === 'queued' && !results.has(row.deviceId))
            changed.push({ ...row, state: 'failed', meaning: 'the device did not answer the probe of its tree', updatedAt: this.now() });
        await this.update(id, changed);
        const done = { ...dist, fanouts: dist.fanouts.map((x) => (x.name === f.name ? { ...x, done: true } : x)), updatedAt: this.now() };
        await this.store.putDistribution(done);
        await this.send(done, await this.store.listDistributionDevices(id));
        return;
      }
      const execs = new Map<string, ExecResult>();
      for (const [deviceId, cmds] of results) {
        const row = rows.get(deviceId);
        if (!row || row.state === 'succeeded' || row.state === 'failed' || owner(dist, row) !== f.name) continue;
        if (cmds.at(-1)) execs.set(deviceId, cmds.at(-1)!);
        // a follow's rows name its gateway even when a stop left them unmarked before it was sent
        const at = f.follow ? { gatewayId: f.follow.gatewayId } : {};
        changed.push(settledBytes({ ...row, ...deviceOutcome(row.object ?? 'fumo', cmds), ...at, updatedAt: this.now() }));
      }
      if (final)
        for (const row of rows.values())
          if (
            (row.state === 'sent' || row.state === 'downloading') &&
            !row.mode &&
            !results.has(row.deviceId) &&
            (row.object === f.object || (f.object === 'fumo' && row.object === 'lwm2m')) &&
            owner(dist, row) === f.name
          )
            changed.push({ ...row, state: 'failed', meaning: 'the gateway reported no result for the device', updatedAt: this.now() });
      // a device not reached because it moved is sent again through its new gateway (stored before it is sent)
      const moved = await this.follower.divert(dist, f, changed, execs);
      await this.update(id, moved.rows);
      await moved.start();
      if (final) {
        this.seen.delete(`${fanoutGateway(dist, f)}\n${f.name}`);
        const latest = (await this.store.getDistribution(id)) ?? dist;
        await this.store.putDistribution({
          ...latest,
          fanouts: latest.fanouts.map((x) => (x.name === f.name ? { ...x, done: true } : x)),
          updatedAt: this.now(),
        });
      }
    }
    await this.finishIfDone(id);
  }

  /**
   * The results of commands `cmds` (1-based) of each device of a fanout so far, read leaf by leaf
   * (`Results/<i>/DeviceID`, `…/Cmd/<k>/Status`, `…/Cmd/<k>/Data`; in runs of about CHUNK Gets):
   * a Results command too large for one message goes on in the next, and the server keeps only
   * its first part, so neither the whole Results tree nor one device's subtree is asked for.
   * Undefined when the gateway does not answer, or when more than `limit` devices have results (a
   * live view of a large fanout waits for its end).
   */
  private async results(
    gatewayId: string,
    fanout: string,
    limit: number,
    cmds: readonly number[],
    downloads?: (text: string) => void,
  ): Promise<Map<string, CmdResult[]> | undefined> {
    const base = `./GwMO/Fanout/${fanout}`;
    const live = limit !== Number.POSITIVE_INFINITY;
    // a live view asks, in the same message, how far each device still running has downloaded
    const p = await this.gateways.run(
      gatewayId,
      [
        { kind: 'Get', path: `${base}/Progress/Done` },
        ...(live && downloads ? [{ kind: 'Get' as const, path: `${base}/Progress/Downloads` }] : []),
      ],
      10_000,
    );
    const text = (op: { status?: number; results?: readonly { data?: unknown }[] } | undefined): string | undefined => {
      const d = op?.status === 200 ? op.results?.[0]?.data : undefined;
      return typeof d === 'string' ? d : undefined;
    };
    const done = Number(text(p.operations[0]) ?? NaN);
    if (p.done) downloads?.(text(p.operations[1]) ?? '');
    if (!p.done || !Number.isInteger(done) || done > limit) return undefined;
    // a live view reads again only when more devices have finished
    const key = `${gatewayId}\n${fanout}`;
    if (live && this.seen.get(key) === done) return undefined;
    this.seen.set(key, done);
    const out = new Map<string, CmdResult[]>();
    const index = new Map<string, number>();
    const per = 1 + 2 * cmds.length;
    const step = Math.max(1, Math.floor(CHUNK / per));
    for (let i = 1; i <= done; i += step) {
      const entries = Array.from({ length: Math.min(step, done - i + 1) }, (_, k) => `${base}/Results/${i + k}`);
      const r = await this.gateways.run(
        gatewayId,
        entries.flatMap((e) => [
          { kind: 'Get' as const, path: `${e}/DeviceID` },
          ...cmds.flatMap((k) => [
            { kind: 'Get' as const, path: `${e}/Cmd/${k}/Status` },
            { kind: 'Get' as const, path: `${e}/Cmd/${k}/Data` },
          ]),
        ]),
        30_000,
      );
      if (!r.done) return undefined;
      entries.forEach((_, n) => {
        const ops = r.operations.slice(n * per, (n + 1) * per);
        const id = text(ops[0]);
        if (id === undefined) return;
        index.set(id, i + n);
        out.set(
          id,
          cmds.map((_k, j) => {
            const data = text(ops[1 + 2 * j + 1]);
            return { status: Number(text(ops[1 + 2 * j]) ?? 0), ...(data !== undefined ? { data } : {}) };
          }),
        );
      });
    }
    // a 408 either never went out or went out unanswered: only the gateway's InDoubt tells (the follow needs it)
    const timedOut = [...out].filter(([, c]) => c.at(-1)?.status === 408).map(([id]) => id);
    for (let i = 0; i < timedOut.length; i += CHUNK) {
      const part = timedOut.slice(i, i + CHUNK);
      const r = await this.gateways.run(
        gatewayId,
        part.map((id) => ({ kind: 'Get' as const, path: `${base}/Results/${index.get(id)}/InDoubt` })),
        30_000,
      );
      if (!r.done) return undefined;
      part.forEach((id, k) => {
        const c = out.get(id)!;
        // absent (404) when not in doubt; anything but a plain "no" is taken as doubt
        if (r.operations[k]?.status !== 404 && text(r.operations[k]) !== 'false') c[c.length - 1] = { ...c.at(-1)!, inDoubt: true };
      });
    }
    return out;
  }

  private async finishIfDone(id: string): Promise<void> {
    const d = await this.store.getDistribution(id);
    if (!d || d.state === 'done' || d.fanouts.some((f) => !f.done) || d.state === 'probing') return;
    if (TransparentUpdates.pending(await this.store.listDistributionDevices(id))) return;
    await this.store.putDistribution({ ...d, state: 'done', updatedAt: this.now() });
    this.log('distribution.done', { id });
    this.events.emit('end', id);
  }

  /** Every Generic Alert from a gateway passes here: the end of one of our fanouts moves its distribution on. */
  async onAlert(gatewayId: string, alert: GenericAlert): Promise<void> {
    const m = CORRELATOR.exec(alert.correlator ?? '');
    if (!m || !(alert.items[0]?.type ?? '').includes(':resultaggregation')) return;
    const dist = await this.store.getDistribution(m[1]!);
    const f = dist?.fanouts.find((x) => x.correlator === alert.correlator);
    if (!dist || !f || f.done || fanoutGateway(dist, f) !== gatewayId) return;
    // its end is stored first: if the results cannot be read now, the next refresh reads them
    await this.store.putDistribution({
      ...dist,
      ...(f.object === 'probe' ? { state: 'running' as const } : {}),
      fanouts: dist.fanouts.map((x) => (x.name === f.name ? { ...x, ended: true } : x)),
    });
    await this.refresh(dist.id, { fanout: f.name });
  }
}
