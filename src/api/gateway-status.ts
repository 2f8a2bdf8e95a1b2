// What the gateway's LAN status page shows (src/web/gateway-status.ts renders it): who it is, its
// server, its last session there, its devices counted, the fanouts running, the images it holds.
// Plain data read from the gateway's tree and store at request time; never a credential.
import { JobState } from '../gateway/fanout.ts';
import type { DmGateway } from '../gateway/gateway.ts';
import { ImageState } from '../store/gateway.ts';

export interface GatewayStatus {
  readonly deviceId: string;
  readonly server: { readonly id: string; readonly url: string } | null;
  readonly lanUrl: string;
  readonly lwm2m: string | null;
  readonly lastCheckIn: { readonly at: string; readonly outcome: string } | null;
  /** LwM2M notify/send records on their way north (null without the LwM2M server) */
  readonly lwm2mAlerts: {
    readonly queued: number;
    readonly waiting: number;
    /** the batch was full */
    readonly dropped: number;
    /** a device went over its rate */
    readonly rateDropped: number;
  } | null;
  readonly devices: {
    readonly total: number;
    readonly byStatus: Readonly<Record<string, number>>;
    readonly byMode: Readonly<Record<string, number>>;
    readonly byProtocol: Readonly<Record<string, number>>;
  };
  readonly fanouts: readonly {
    readonly name: string;
    readonly state: string;
    readonly done: number;
    readonly total: number;
    readonly since: string;
  }[];
  readonly images: readonly {
    readonly name: string;
    readonly version: string;
    readonly state: string;
    readonly bytes: number;
    readonly size: number | null;
    readonly error: string | null;
  }[];
  readonly at: string;
}

/** code → lower-case name, from the const objects that define the codes */
const names = (codes: Readonly<Record<string, number>>): ReadonlyMap<number, string> =>
  new Map(Object.entries(codes).map(([k, v]) => [v, k.replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase()]));
const JOB_STATES = names(JobState);
const IMAGE_STATES = names(ImageState);

/** an address written as http://user:pw@host/ shows no credential */
function withoutUserInfo(addr: string): string {
  try {
    const u = new URL(addr);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return addr;
  }
}

export function gatewayStatus(gw: DmGateway, now: number = Date.now()): GatewayStatus {
  const iso = (t: number): string => new Date(t).toISOString();
  let server: GatewayStatus['server'] = null;
  try {
    const acc = gw.agent.account();
    server = { id: acc.serverId, url: withoutUserInfo(acc.addr) };
  } catch {
    // no DM account (yet): the page says so
  }
  const s = gw.inventory.summary();
  const store = gw.store;
  const running = store.listJobs().filter((j) => j.state === JobState.Created || j.state === JobState.Running);
  return {
    deviceId: String(gw.tree.read('./DevInfo/DevId') ?? ''),
    server,
    lanUrl: gw.lanUrl,
    lwm2m: gw.lwm2mAddress ? `coap://${gw.lwm2mAddress}` : null,
    lastCheckIn: gw.lastCheckIn ? { at: iso(gw.lastCheckIn.at), outcome: gw.lastCheckIn.outcome } : null,
    lwm2mAlerts: gw.observations
      ? (({ queued, waiting, dropped }) => ({ queued, waiting, dropped, rateDropped: gw.observations?.dropped ?? 0 }))(
          gw.alertBatch.counters,
        )
      : null,
    devices: {
      total: s.total,
      byStatus: { attached: s.attached, detached: s.detached },
      byMode: Object.fromEntries(Object.entries(s.byMode).map(([k, v]) => [k.toLowerCase(), v])),
      byProtocol: s.byProtocol,
    },
    fanouts: running.map((j) => ({
      name: j.name,
      state: JOB_STATES.get(j.state) ?? String(j.state),
      done: store.listResults(j.name).length,
      total: j.devices?.length ?? 0,
      since: iso(j.createdAt),
    })),
    images: store.listImages().map((i) => ({
      name: i.name,
      version: i.version,
      state: IMAGE_STATES.get(i.state) ?? String(i.state),
      bytes: i.bytes,
      size: i.size ?? null,
      error: i.error ?? null,
    })),
    at: iso(now),
  };
}
