// Campaigns: one image rolled out to devices behind one gateway or several, in stages, on top of
// distributions. The canary (wave 0) goes first, then the waves; each wave goes, on each gateway, in
// batches of at most the per-gateway concurrency, each batch one distribution named
// `<campaign>.w<wave>.b<batch>` (across gateways `<campaign>.w<wave>.g<gateway>.b<batch>`, the
// gateways' batches running side by side). A wave starts only
// when the one before it ended with its failed share at or under the threshold; above it the
// campaign halts and says why. Every step is derived from what the store holds (the campaign's row
// and its batches' distributions), and a batch is started only when no distribution of its name
// exists, so a restarted server carries on without updating a device twice. docs/updates.md.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type { CampaignRow, DistributionDeviceRow, ServerStore } from '../store/server.ts';
import type { Distributions } from './distributions.ts';
import { requireIdentifier, ServiceError } from './service.ts';

/** Devices behind one gateway of a campaign across gateways: these, the groups' members, or every one it has. */
export interface CampaignTarget {
  readonly gateway: string;
  readonly devices?: readonly string[];
  readonly groups?: readonly string[];
  /** every device of the gateway's inventory */
  readonly all?: boolean;
}

export interface CampaignSpec {
  readonly name?: string;
  /** one gateway: `image` is the name it has in that gateway's store */
  readonly gateway?: string;
  /** across gateways (no `gateway`): `image` is the server's image id, staged on each gateway */
  readonly targets?: readonly CampaignTarget[];
  readonly image: string;
  /** with `gateway`: its devices; without: devices wherever they were last announced */
  readonly devices?: readonly string[];
  readonly groups?: readonly string[];
  readonly object?: 'auto' | 'fumo' | 'scomo';
  /** the first wave: a number of devices, or a share of them (0–1) */
  readonly canary?: { readonly count?: number; readonly share?: number };
  /** the waves after the canary: how many (equal sizes), or each one's size (the rest is one more wave) */
  readonly waves?: number | readonly number[];
  /** failed share of a wave above which the campaign halts (default 0.1) */
  readonly failureThreshold?: number;
  readonly notBefore?: number;
  readonly notAfter?: number;
  /** devices updating at once on the gateway (default 100) */
  readonly perGatewayConcurrency?: number;
  /** seconds each device has (the distribution's timeout) */
  readonly timeout?: number;
}

export type WaveState = 'pending' | 'running' | 'done';

export interface WaveView {
  readonly wave: number;
  readonly name: string;
  readonly state: WaveState;
  readonly devices: number;
  readonly succeeded: number;
  readonly failed: number;
  /** failed / devices that ended */
  readonly failureRatio: number;
  readonly byResult: Record<string, number>;
}

export interface GatewayView {
  readonly gateway: string;
  readonly devices: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly byResult: Record<string, number>;
}

export interface CampaignReport {
  readonly campaign: CampaignRow;
  readonly waves: readonly WaveView[];
  readonly byResult: Record<string, number>;
  /** each gateway's counts, in the campaign's order of gateways */
  readonly gateways: readonly GatewayView[];
  /** each device's row, with its wave and gateway; devices not started yet are `pending` */
  readonly devices: readonly (Pick<
    DistributionDeviceRow,
    'deviceId' | 'object' | 'status' | 'resultCode' | 'meaning' | 'bytes' | 'size'
  > & {
    readonly wave: number;
    readonly gateway: string;
    readonly state: DistributionDeviceRow['state'] | 'pending';
  })[];
}

const NAME = /^[A-Za-z0-9\-_.]{1,48}$/;
const ACTIVE: readonly CampaignRow['state'][] = ['scheduled', 'running', 'paused'];
const DEFAULT_THRESHOLD = 0.1;
const DEFAULT_CONCURRENCY = 100;
const START_WAIT_MS = 30_000;

/** a batch's distribution; `g` (the gateway's index) only in a campaign across gateways */
export const batchName = (campaign: string, wave: number, batch: number, g?: number): string =>
  g === undefined ? `${campaign}.w${wave}.b${batch}` : `${campaign}.w${wave}.g${g}.b${batch}`;
const BATCH = /^(.+)\.w(\d+)(?:\.g\d+)?\.b(\d+)$/;
/** the campaign a distribution is a batch of, if it is one */
export const campaignOfBatch = (distribution: string): string | undefined => BATCH.exec(distribution)?.[1];

/** The campaign's gateways, each with the name the image has there (one for a campaign on one gateway). */
export const gatewaysOf = (c: CampaignRow): readonly { id: string; image: string }[] => c.gateways ?? [{ id: c.gatewayId, image: c.image }];

/** A wave's devices per gateway (by index), in the wave's order. */
function byGateway(c: CampaignRow, devices: readonly string[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (let g = 0; g < gatewaysOf(c).length; g++) out.set(g, []);
  for (const d of devices) out.get(c.at?.[d] ?? 0)?.push(d);
  return out;
}

/** one batch per `size` devices of each gateway's share of the wave */
function batches(c: CampaignRow, w: number): { g: number; b: number; name: string; devices: string[] }[] {
  const out: { g: number; b: number; name: string; devices: string[] }[] = [];
  const size = c.perGatewayConcurrency;
  for (const [g, list] of byGateway(c, c.waves[w]!))
    for (let b = 0; b * size < list.length; b++)
      out.push({ g, b, name: batchName(c.id, w, b, c.gateways ? g : undefined), devices: list.slice(b * size, (b + 1) * size) });
  return out;
}

/** Devices of several gateways taken in turn, so that any first share of them spans as many gateways as it can. */
export function interleave(lists: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}
export const waveName = (c: Pick<CampaignRow, 'waves'>, w: number, hasCanary: boolean): string =>
  hasCanary ? (w === 0 ? 'canary' : `wave ${w}`) : `wave ${w + 1}`;

/** Splits the devices into the canary and the waves; empty waves are dropped. */
export function planWaves(devices: readonly string[], spec: Pick<CampaignSpec, 'canary' | 'waves'>): string[][] {
  const n = devices.length;
  let canary = 0;
  if (spec.canary?.count !== undefined) canary = Math.min(n, spec.canary.count);
  else if (spec.canary?.share !== undefined) canary = Math.min(n, Math.max(1, Math.ceil(spec.canary.share * n)));
  const out: string[][] = [devices.slice(0, canary)];
  let rest = devices.slice(canary);
  const w = spec.waves ?? 1;
  if (typeof w === 'number') {
    const size = Math.ceil(rest.length / w);
    while (rest.length > 0) {
      out.push(rest.slice(0, size));
      rest = rest.slice(size);
    }
  } else {
    for (const size of w) {
      if (rest.length === 0) break;
      out.push(rest.slice(0, size));
      rest = rest.slice(size);
    }
    if (rest.length > 0) out.push(rest);
  }
  return out.filter((x) => x.length > 0);
}

function validate(spec: CampaignSpec): void {
  const bad = (m: string): never => {
    throw new ServiceError(400, m);
  };
  if (spec.name !== undefined && !NAME.test(spec.name)) bad(`name "${spec.name}" must be 1–48 letters, digits, "-", "_" or "."`);
  if (spec.object !== undefined && !['auto', 'fumo', 'scomo'].includes(spec.object)) bad('object must be "auto", "fumo" or "scomo"');
  const c = spec.canary;
  if (c !== undefined) {
    if ((c.count === undefined) === (c.share === undefined)) bad('canary takes one of "count" or "share"');
    if (c.count !== undefined && (!Number.isInteger(c.count) || c.count < 1)) bad('canary.count must be a whole number ≥ 1');
    if (c.share !== undefined && !(c.share > 0 && c.share < 1)) bad('canary.share must be between 0 and 1 (exclusive)');
  }
  const w = spec.waves;
  if (typeof w === 'number' && (!Number.isInteger(w) || w < 1 || w > 1000)) bad('waves must be a count 1–1000 or an array of sizes');
  if (Array.isArray(w) && (w.length === 0 || w.length > 1000 || w.some((x) => !Number.isInteger(x) || x < 1)))
    bad('waves: each size must be a whole number ≥ 1 (1–1000 of them)');
  const t = spec.failureThreshold;
  if (t !== undefined && !(typeof t === 'number' && t >= 0 && t <= 1)) bad('failureThreshold must be a ratio 0–1');
  const k = spec.perGatewayConcurrency;
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > 100_000)) bad('perGatewayConcurrency must be 1–100000');
  for (const f of ['notBefore', 'notAfter'] as const)
    if (spec[f] !== undefined && !Number.isFinite(spec[f])) bad(`window.${f} must be a date`);
  if (spec.notBefore !== undefined && spec.notAfter !== undefined && spec.notAfter <= spec.notBefore)
    bad('window.notAfter must be after window.notBefore');
  (spec.devices ?? []).forEach((d, i) => requireIdentifier(d, `devices[${i}]`));
  if (spec.gateway !== undefined && spec.targets !== undefined) bad('give "gateway" (one gateway) or "targets" (several), not both');
  if (spec.gateway === undefined) {
    if (spec.groups?.length) bad('groups are per gateway: give "gateway", or "targets": [{"gateway": …, "groups": [...]}]');
    if (!spec.targets?.length && !spec.devices?.length)
      bad('a campaign needs targets: "devices": [...], "groups": [...] or "targets": [...]');
  }
  (spec.targets ?? []).forEach((t, i) => {
    requireIdentifier(t.gateway, `targets[${i}].gateway`);
    if (!t.devices?.length && !t.groups?.length && t.all !== true) bad(`targets[${i}] needs "devices" and/or "groups", or "all": true`);
    (t.devices ?? []).forEach((d, k) => requireIdentifier(d, `targets[${i}].devices[${k}]`));
  });
}

export class Campaigns {
  /** `change` (campaign id) whenever a campaign's row changes */
  readonly events = new EventEmitter();
  private readonly store: ServerStore;
  private readonly distributions: Distributions;
  private readonly now: () => number;
  private readonly log: (e: string, f: Record<string, unknown>) => void;
  /** one step at a time per campaign in this process */
  private readonly locks = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    store: ServerStore,
    distributions: Distributions,
    now: () => number,
    log: (e: string, f: Record<string, unknown>) => void = () => {},
  ) {
    this.store = store;
    this.distributions = distributions;
    this.now = now;
    this.log = log;
    this.events.setMaxListeners(0);
    distributions.events.on('end', (id: string) => {
      const c = campaignOfBatch(id);
      if (c !== undefined) void this.advance(c);
    });
  }

  /** Steps every active campaign now and then every `ms`: windows open and close, and a restart carries on. */
  startTicking(ms: number): void {
    const tick = async (): Promise<void> => {
      for (const c of await this.store.listCampaigns(1000).catch(() => []))
        if (c.state === 'running' || c.state === 'scheduled') await this.advance(c.id, true);
    };
    void tick();
    this.timer = setInterval(() => void tick(), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async create(spec: CampaignSpec): Promise<CampaignRow> {
    validate(spec);
    const id = spec.name ?? `camp-${randomUUID().slice(0, 8)}`;
    if (await this.store.getCampaign(id)) throw new ServiceError(409, `a campaign named "${id}" exists; choose another name`);
    const where = spec.gateway === undefined ? await this.across(spec) : undefined;
    // every device once, in the order given: groups' members after the listed devices
    const devices = where?.devices ?? [
      ...new Set(
        (
          await this.distributions.targets(
            spec.gateway!,
            { image: spec.image, ...(spec.devices ? { devices: spec.devices } : {}), ...(spec.groups ? { groups: spec.groups } : {}) },
            START_WAIT_MS,
          )
        ).map((t) => t.deviceId),
      ),
    ];
    const now = this.now();
    const waves = planWaves(devices, spec);
    const row: CampaignRow = {
      id,
      gatewayId: spec.gateway ?? '*',
      image: spec.image,
      ...(where ? { gateways: where.gateways, at: where.at } : {}),
      object: spec.object ?? 'auto',
      state: spec.notBefore !== undefined && spec.notBefore > now ? 'scheduled' : 'running',
      waves: spec.canary ? waves : [[], ...waves],
      wave: spec.canary ? 0 : 1,
      failureThreshold: spec.failureThreshold ?? DEFAULT_THRESHOLD,
      perGatewayConcurrency: spec.perGatewayConcurrency ?? DEFAULT_CONCURRENCY,
      ...(spec.notBefore !== undefined ? { notBefore: spec.notBefore } : {}),
      ...(spec.notAfter !== undefined ? { notAfter: spec.notAfter } : {}),
      ...(spec.timeout !== undefined ? { timeout: spec.timeout } : {}),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.putCampaign(row);
    this.log('campaign.create', { id, gateways: gatewaysOf(row).map((g) => g.id), devices: devices.length, waves: row.waves.length });
    await this.advance(id);
    return (await this.store.getCampaign(id)) ?? row;
  }

  /**
   * A campaign across gateways: each target's devices (or those located by the server), the name
   * the image is staged under on each gateway, and the devices taken in turn from each gateway.
   */
  private async across(
    spec: CampaignSpec,
  ): Promise<{ gateways: { id: string; image: string }[]; at: Record<string, number>; devices: string[] }> {
    const image = await this.distributions.image(spec.image);
    const wanted = new Map<string, { devices: string[]; groups: string[] }>();
    const add = (g: string, devices: readonly string[], groups: readonly string[]): void => {
      const t = wanted.get(g) ?? { devices: [], groups: [] };
      wanted.set(g, t);
      t.devices.push(...devices);
      t.groups.push(...groups);
    };
    for (const t of spec.targets ?? [])
      add(t.gateway, t.all ? await this.distributions.allDevices(t.gateway, START_WAIT_MS) : (t.devices ?? []), t.groups ?? []);
    if (spec.devices?.length) for (const [g, list] of await this.distributions.locate(spec.devices)) add(g, list, []);
    const staged = await this.distributions.stagedNames(image, wanted.keys(), START_WAIT_MS);
    const gateways: { id: string; image: string }[] = [];
    const at: Record<string, number> = {};
    const lists: string[][] = [];
    for (const [g, t] of wanted) {
      const found = await this.distributions.targets(
        g,
        { image: staged.get(g)!, ...(t.devices.length ? { devices: t.devices } : {}), ...(t.groups.length ? { groups: t.groups } : {}) },
        START_WAIT_MS,
      );
      const mine = [...new Set(found.map((x) => x.deviceId))].filter((d) => at[d] === undefined);
      for (const d of mine) at[d] = gateways.length;
      gateways.push({ id: g, image: staged.get(g)! });
      lists.push(mine);
    }
    return { gateways, at, devices: interleave(lists) };
  }

  async get(id: string): Promise<CampaignRow> {
    const c = await this.store.getCampaign(id);
    if (!c) throw new ServiceError(404, `no campaign "${id}"`);
    return c;
  }

  list(limit: number): Promise<CampaignRow[]> {
    return this.store.listCampaigns(limit);
  }

  /** pause (no new batch starts; those running end), resume (also a halted or expired campaign, at its next wave), cancel */
  async control(id: string, action: 'pause' | 'resume' | 'cancel'): Promise<CampaignRow> {
    await this.locked(id, async () => {
      const c = await this.get(id);
      const conflict = (): never => {
        throw new ServiceError(409, `campaign "${id}" is ${c.state}: it cannot ${action}`);
      };
      let next: CampaignRow;
      if (action === 'pause') {
        if (c.state !== 'running' && c.state !== 'scheduled') conflict();
        next = { ...c, state: 'paused', reason: 'paused by the operator' };
      } else if (action === 'resume') {
        if (!['paused', 'halted', 'expired'].includes(c.state)) conflict();
        const { reason: _r, ...rest } = c;
        next = { ...rest, state: c.notBefore !== undefined && c.notBefore > this.now() ? 'scheduled' : 'running' };
        if (c.state === 'expired') {
          const { notAfter: _a, ...open } = next;
          next = open;
        }
      } else {
        if (!ACTIVE.includes(c.state) && c.state !== 'halted') conflict();
        next = { ...c, state: 'cancelled', reason: 'cancelled by the operator' };
      }
      await this.put({ ...next, updatedAt: this.now() });
      this.log(`campaign.${action}`, { id });
    });
    if (action === 'resume') await this.advance(id);
    return this.get(id);
  }

  /** Moves the campaign on as far as it can now. */
  advance(id: string, fromTick = false): Promise<void> {
    return this.locked(id, () => this.step(id, fromTick)).catch((err) =>
      this.log('campaign.error', { id, error: String(err instanceof Error ? err.message : err) }),
    );
  }

  private async locked(id: string, f: () => Promise<void>): Promise<void> {
    const before = this.locks.get(id) ?? Promise.resolve();
    const run = before.then(f, f);
    const settled = run.catch(() => {});
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return run;
  }

  private async put(c: CampaignRow): Promise<void> {
    await this.store.putCampaign(c);
    this.events.emit('change', c.id);
  }

  private async step(id: string, fromTick: boolean): Promise<void> {
    let c = await this.store.getCampaign(id);
    if (!c) return;
    if (c.state === 'scheduled') {
      if (c.notBefore !== undefined && c.notBefore > this.now()) return;
      c = { ...c, state: 'running', updatedAt: this.now() };
      await this.put(c);
    }
    while (c.state === 'running') {
      if (c.wave >= c.waves.length) {
        await this.put({ ...c, state: 'done', updatedAt: this.now() });
        this.log('campaign.done', { id });
        return;
      }
      // on each gateway: its batch under way, or else its next one to start
      const todo: { g: number; name: string; devices: string[] }[] = [];
      const busy = new Set<number>();
      let left = 0;
      for (const batch of batches(c, c.wave)) {
        if (busy.has(batch.g)) {
          left += batch.devices.length; // after the one under way or about to start
          continue;
        }
        const dist = await this.store.getDistribution(batch.name);
        if (dist?.state === 'done') continue;
        busy.add(batch.g);
        if (!dist) {
          todo.push(batch);
          left += batch.devices.length;
        }
        // its end reached the server (stored) but its results were not read yet: read them now
        else if (fromTick && dist.fanouts.some((f) => f.ended && !f.done)) await this.distributions.refresh(batch.name);
      }
      if (todo.length > 0 && c.notAfter !== undefined && this.now() > c.notAfter) {
        left += c.waves.slice(c.wave + 1).reduce((n, w) => n + w.length, 0);
        await this.put({
          ...c,
          state: 'expired',
          reason: `the window closed at ${new Date(c.notAfter).toISOString()} with ${left} devices not started`,
          updatedAt: this.now(),
        });
        this.log('campaign.expired', { id, left });
        return;
      }
      for (const t of todo) if (!(await this.startBatch(c, t.g, t.name, t.devices))) return;
      const ended = busy.size === 0;
      if (!ended) return;
      const w = await this.wave(c, c.wave);
      const hasCanary = c.waves[0]!.length > 0;
      if (w.failureRatio > c.failureThreshold) {
        const codes = Object.entries(w.byResult)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([k, n]) => `${n} × ${k}`)
          .join(', ');
        const reason = `${waveName(c, c.wave, hasCanary)}: ${w.failed} of ${w.devices} devices failed (${pct(w.failureRatio)} > threshold ${pct(c.failureThreshold)})${codes ? `: ${codes}` : ''}`;
        await this.put({ ...c, state: 'halted', reason, wave: c.wave + 1, updatedAt: this.now() });
        this.log('campaign.halted', { id, reason });
        return;
      }
      c = { ...c, wave: c.wave + 1, updatedAt: this.now() };
      await this.put(c);
    }
  }

  /** false when the batch could not start and the campaign halted */
  private async startBatch(c: CampaignRow, g: number, name: string, devices: readonly string[]): Promise<boolean> {
    const gw = gatewaysOf(c)[g]!;
    try {
      await this.distributions.start(
        gw.id,
        { name, image: gw.image, devices, object: c.object, ...(c.timeout !== undefined ? { timeout: c.timeout } : {}) },
        START_WAIT_MS,
      );
      this.log('campaign.batch', { id: c.id, batch: name, gateway: gw.id, devices: devices.length });
      return true;
    } catch (err) {
      const status = err instanceof ServiceError ? err.status : 500;
      // another instance started it first: it is ours all the same
      if (status === 409 && (await this.store.getDistribution(name))) return true;
      // the gateway silent or the store down: the next tick tries again; anything else is for the operator
      if (status >= 500) throw err;
      await this.put({
        ...c,
        state: 'halted',
        reason: `${name} could not start: ${err instanceof Error ? err.message : String(err)}`,
        updatedAt: this.now(),
      });
      return false;
    }
  }

  /** The batches of the campaign's current wave that have started and not ended (what a live view reads). */
  async running(id: string): Promise<string[]> {
    const c = await this.get(id);
    if (c.state !== 'running' || c.wave >= c.waves.length) return [];
    const out: string[] = [];
    for (const { name } of batches(c, c.wave)) {
      const d = await this.store.getDistribution(name);
      if (d && d.state !== 'done') out.push(name);
    }
    return out;
  }

  /** One wave's counts, from its batches' device rows. */
  async wave(c: CampaignRow, w: number): Promise<WaveView> {
    const rows = await this.waveRows(c, w);
    const devices = c.waves[w]!.length;
    let succeeded = 0;
    let failed = 0;
    const byResult: Record<string, number> = {};
    for (const r of rows) {
      if (r.state === 'succeeded') succeeded++;
      if (r.state === 'failed') failed++;
      if (r.state === 'succeeded' || r.state === 'failed') {
        const k = resultKey(r);
        byResult[k] = (byResult[k] ?? 0) + 1;
      }
    }
    const state: WaveState = rows.length === 0 ? 'pending' : succeeded + failed === devices || c.wave > w ? 'done' : 'running';
    const endedN = succeeded + failed;
    return {
      wave: w,
      name: waveName(c, w, c.waves[0]!.length > 0),
      state,
      devices,
      succeeded,
      failed,
      failureRatio: endedN === 0 ? 0 : failed / endedN,
      byResult,
    };
  }

  private async waveRows(c: CampaignRow, w: number): Promise<DistributionDeviceRow[]> {
    const out: DistributionDeviceRow[] = [];
    const empty = new Set<number>(); // a gateway's batches start in order: none after one not started
    for (const { g, name } of batches(c, w)) {
      if (empty.has(g)) continue;
      const rows = await this.store.listDistributionDevices(name);
      if (rows.length === 0) empty.add(g);
      out.push(...rows);
    }
    return out;
  }

  async report(id: string): Promise<CampaignReport> {
    const c = await this.get(id);
    const waves: WaveView[] = [];
    const devices: CampaignReport['devices'][number][] = [];
    const byResult: Record<string, number> = {};
    const gws = gatewaysOf(c);
    const perGateway = gws.map((g) => ({ gateway: g.id, devices: 0, succeeded: 0, failed: 0, byResult: {} as Record<string, number> }));
    for (let w = 0; w < c.waves.length; w++) {
      if (c.waves[w]!.length === 0) continue;
      const view = await this.wave(c, w);
      waves.push(view);
      for (const [k, n] of Object.entries(view.byResult)) byResult[k] = (byResult[k] ?? 0) + n;
      const rows = new Map((await this.waveRows(c, w)).map((r) => [r.deviceId, r]));
      for (const d of c.waves[w]!) {
        const r = rows.get(d);
        const g = perGateway[c.at?.[d] ?? 0]!;
        g.devices++;
        if (r?.state === 'succeeded') g.succeeded++;
        if (r?.state === 'failed') g.failed++;
        if (r?.state === 'succeeded' || r?.state === 'failed') g.byResult[resultKey(r)] = (g.byResult[resultKey(r)] ?? 0) + 1;
        devices.push({
          wave: w,
          // where it finished: another gateway when it moved mid-batch and was followed there
          gateway: r?.gatewayId ?? g.gateway,
          deviceId: d,
          state: r?.state ?? 'pending',
          ...(r?.object !== undefined ? { object: r.object } : {}),
          ...(r?.status !== undefined ? { status: r.status } : {}),
          ...(r?.resultCode !== undefined ? { resultCode: r.resultCode } : {}),
          ...(r?.meaning !== undefined ? { meaning: r.meaning } : {}),
          ...(r?.bytes !== undefined ? { bytes: r.bytes } : {}),
          ...(r?.size !== undefined ? { size: r.size } : {}),
        });
      }
    }
    return { campaign: c, waves, byResult, gateways: perGateway, devices };
  }
}

function resultKey(r: DistributionDeviceRow): string {
  return r.resultCode !== undefined
    ? `${r.resultCode} ${r.meaning ?? ''}`.trim()
    : r.state === 'succeeded'
      ? 'succeeded'
      : `failed: ${r.meaning ?? 'no result'}`;
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
