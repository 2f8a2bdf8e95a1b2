// The fleet at a glance (GET /api/overview, the dashboard's first page). Each gateway's devices are
// counted from its inventory Summary, a small fixed-size DM Get rather than the whole inventory;
// a read is shared by everyone who asks within FRESH_MS, and a Get the gateway has not answered
// yet is waited on again rather than queued twice, so many viewers cost a gateway one read.
import type { OperationRow } from '../store/server.ts';
import { type GatewayService, structData, type Tree } from './gateways.ts';
import type { ServerService } from './service.ts';

export const FRESH_MS = 10_000;
const SUMMARY = './GwMO/DevInventory/Summary';

export interface DeviceCounts {
  readonly total: number;
  readonly attached: number;
  readonly detached: number;
  /** transparent, proxy, adaptation */
  readonly byMode: Readonly<Record<string, number>>;
  readonly byProtocol: Readonly<Record<string, number>>;
}

export interface GatewayOverview {
  readonly deviceId: string;
  readonly lastSeen: number | undefined;
  readonly missedCheckIn: boolean;
  /** the last Summary read (undefined: the gateway has not answered one yet) and when it was read */
  readonly devices: DeviceCounts | undefined;
  readonly devicesAt: number | undefined;
  readonly fanouts: readonly { name: string; since: number }[];
}

const count = (v: Tree | string | undefined): number => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : 0);
const counts = (t: Tree | string | undefined): Record<string, number> =>
  typeof t === 'object' ? Object.fromEntries(Object.entries(t).map(([k, v]) => [k, count(v)])) : {};

/** ./GwMO/DevInventory/Summary as numbers (mode names lower-cased, as the API spells modes) */
export function summaryCounts(summary: Tree): DeviceCounts {
  return {
    total: count(summary['Total']),
    attached: count(summary['Attached']),
    detached: count(summary['Detached']),
    byMode: Object.fromEntries(Object.entries(counts(summary['ByMode'])).map(([k, v]) => [k.toLowerCase(), v])),
    byProtocol: counts(summary['ByProtocol']),
  };
}

/** the counts of several gateways added up */
export function addCounts(all: readonly DeviceCounts[]): DeviceCounts {
  const sum = (pick: (c: DeviceCounts) => Readonly<Record<string, number>>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const c of all) for (const [k, v] of Object.entries(pick(c))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    total: all.reduce((n, c) => n + c.total, 0),
    attached: all.reduce((n, c) => n + c.attached, 0),
    detached: all.reduce((n, c) => n + c.detached, 0),
    byMode: sum((c) => c.byMode),
    byProtocol: sum((c) => c.byProtocol),
  };
}

export class FleetOverview {
  private readonly gateways: GatewayService;
  private readonly service: ServerService;
  private readonly now: () => number;
  private readonly reads = new Map<string, { at: number; counts: DeviceCounts }>();
  /** the Summary Get queued on a gateway that has not answered it yet */
  private readonly unanswered = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(service: ServerService, gateways: GatewayService, now: () => number = Date.now) {
    this.service = service;
    this.gateways = gateways;
    this.now = now;
  }

  /** every gateway; a gateway silent for more than twice `checkInMs` has missed its check-in */
  async read(waitMs: number, checkInMs: number): Promise<GatewayOverview[]> {
    const list = await this.gateways.list();
    return Promise.all(
      list.map(async (g) => {
        const [, fanouts] = await Promise.all([this.refresh(g.deviceId, waitMs), this.gateways.fanoutsRunning(g.deviceId)]);
        const read = this.reads.get(g.deviceId);
        return {
          deviceId: g.deviceId,
          lastSeen: g.lastSeen,
          missedCheckIn: g.lastSeen === undefined || this.now() - g.lastSeen > 2 * checkInMs,
          devices: read?.counts,
          devicesAt: read?.at,
          fanouts,
        };
      }),
    );
  }

  private async refresh(id: string, waitMs: number): Promise<void> {
    const read = this.reads.get(id);
    if (read && this.now() - read.at < FRESH_MS) return;
    let flight = this.inFlight.get(id);
    if (!flight) {
      flight = this.ask(id, waitMs).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, flight);
    }
    await flight;
  }

  private async ask(id: string, waitMs: number): Promise<void> {
    const waiting = this.unanswered.get(id);
    let op: OperationRow | undefined = waiting ? (await this.service.settle([waiting], waitMs))[0] : undefined;
    op ??= (await this.gateways.run(id, [{ kind: 'Get', path: `${SUMMARY}?list=StructData` }], waitMs)).operations[0]!;
    if (op.state === 'queued' || op.state === 'sent') {
      this.unanswered.set(id, op.id);
      return;
    }
    this.unanswered.delete(id);
    if (op.status === 200) this.reads.set(id, { at: this.now(), counts: summaryCounts(structData(op, SUMMARY)) });
  }
}
