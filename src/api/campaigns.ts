// REST routes for campaigns (src/server/campaigns.ts): create, list, each one with its waves'
// progress, pause/resume/cancel, and the report per wave, per gateway and per result code as JSON
// or CSV.
// docs/updates.md, Campaigns.
import type { CampaignReport, CampaignSpec, Campaigns, CampaignTarget } from '../server/campaigns.ts';
import type { GatewayService } from '../server/gateways.ts';
import type { CampaignRow } from '../store/server.ts';
import type { Route } from './gateways.ts';
import { ApiError, field, readJson, sendJson } from './http-json.ts';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A campaign as the API shows it: dates as ISO text, each wave's size instead of its device list. */
export function campaignView(c: CampaignRow, waves?: CampaignReport['waves']): Record<string, unknown> {
  const { waves: lists, notBefore, notAfter, createdAt, updatedAt, at: _at, ...rest } = c;
  return {
    ...rest,
    name: c.id,
    devices: lists.reduce((n, w) => n + w.length, 0),
    ...(notBefore !== undefined || notAfter !== undefined ? { window: { notBefore: iso(notBefore), notAfter: iso(notAfter) } } : {}),
    createdAt: iso(createdAt),
    updatedAt: iso(updatedAt),
    ...(waves ? { waves } : { waveSizes: lists.map((w) => w.length) }),
  };
}

/** the campaign with its waves, its counts and (full) each device's result */
export async function campaignDetail(c: Campaigns, id: string, full: boolean): Promise<Record<string, unknown>> {
  const r = await c.report(id);
  return {
    ...campaignView(r.campaign, r.waves),
    byResult: r.byResult,
    byGateway: r.gateways,
    ...(full ? { results: r.devices } : {}),
  };
}

function date(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) throw new ApiError(400, `${name} must be an ISO 8601 date`);
  return t;
}

function target(t: Record<string, unknown>, i: number): CampaignTarget {
  const list = (k: string): string[] | undefined => {
    const v = t[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw new ApiError(400, `targets[${i}].${k} must be an array of strings`);
    return v as string[];
  };
  const gateway = t['gateway'];
  if (typeof gateway !== 'string') throw new ApiError(400, `targets[${i}].gateway must be a gateway's DeviceID`);
  const devices = list('devices');
  const groups = list('groups');
  const all = t['all'];
  if (all !== undefined && typeof all !== 'boolean') throw new ApiError(400, `targets[${i}].all must be true or false`);
  return { gateway, ...(devices ? { devices } : {}), ...(groups ? { groups } : {}), ...(all ? { all } : {}) };
}

function spec(b: Record<string, unknown>): CampaignSpec {
  const list = (k: string): string[] | undefined => {
    const v = b[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ApiError(400, `${k} must be an array of strings`);
    return v as string[];
  };
  const canary = b['canary'];
  if (canary !== undefined && (typeof canary !== 'object' || canary === null || Array.isArray(canary)))
    throw new ApiError(400, 'canary must be {"count": n} or {"share": 0.05}');
  const c = canary as Record<string, unknown> | undefined;
  const waves = b['waves'];
  if (waves !== undefined && typeof waves !== 'number' && !(Array.isArray(waves) && waves.every((x) => typeof x === 'number')))
    throw new ApiError(400, 'waves must be a count or an array of sizes');
  const window = b['window'];
  if (window !== undefined && (typeof window !== 'object' || window === null || Array.isArray(window)))
    throw new ApiError(400, 'window must be {"notBefore": date, "notAfter": date}');
  const w = (window ?? {}) as Record<string, unknown>;
  const devices = list('devices');
  const groups = list('groups');
  const targets = b['targets'];
  if (targets !== undefined && (!Array.isArray(targets) || targets.some((t) => typeof t !== 'object' || t === null || Array.isArray(t))))
    throw new ApiError(400, 'targets must be an array of {"gateway": id, "devices": [...], "groups": [...]}');
  if (!devices?.length && !groups?.length && !targets?.length)
    throw new ApiError(400, 'a campaign needs targets: "devices": [...] and/or "groups": [...], or "targets": [...] across gateways');
  const opt = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : ({ [k]: v } as { [P in K]: V }));
  const object = field(b, 'object', 'string');
  return {
    ...opt('gateway', field(b, 'gateway', 'string')),
    ...opt(
      'targets',
      (targets as Record<string, unknown>[] | undefined)?.map((t, i) => target(t, i)),
    ),
    image: field(b, 'image', 'string', true)!,
    ...opt('name', field(b, 'name', 'string')),
    ...opt('devices', devices),
    ...opt('groups', groups),
    ...opt('object', object as CampaignSpec['object']),
    ...opt('canary', c ? { ...opt('count', field(c, 'count', 'number')), ...opt('share', field(c, 'share', 'number')) } : undefined),
    ...opt('waves', waves as CampaignSpec['waves']),
    ...opt('failureThreshold', field(b, 'failureThreshold', 'number')),
    ...opt('perGatewayConcurrency', field(b, 'perGatewayConcurrency', 'number')),
    ...opt('timeout', field(b, 'timeout', 'number')),
    ...opt('notBefore', date(w['notBefore'], 'window.notBefore')),
    ...opt('notAfter', date(w['notAfter'], 'window.notAfter')),
  };
}

const CSV_COLUMNS = ['wave', 'waveName', 'deviceId', 'object', 'state', 'status', 'resultCode', 'meaning', 'gateway'] as const;
const csvCell = (v: unknown): string => {
  const s = v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** one line per device (RFC 4180), its wave named */
export function reportCsv(r: CampaignReport): string {
  const names = new Map(r.waves.map((w) => [w.wave, w.name]));
  const lines = [CSV_COLUMNS.join(',')];
  for (const d of r.devices)
    lines.push(
      [d.wave, names.get(d.wave), d.deviceId, d.object, d.state, d.status, d.resultCode, d.meaning, d.gateway].map(csvCell).join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}

export function campaignRoutes(gw: GatewayService): Route[] {
  const c = (): Campaigns => {
    if (!gw.campaigns) throw new ApiError(503, 'this server runs no campaigns');
    return gw.campaigns;
  };
  return [
    [
      'POST',
      /^\/api\/campaigns$/,
      async (req, res) => {
        const row = await c().create(spec(await readJson(req)));
        sendJson(res, 201, campaignView(row, (await c().report(row.id)).waves));
      },
    ],
    [
      'GET',
      /^\/api\/campaigns$/,
      async (_q, res, _p, url) => {
        const limit = Number(url.searchParams.get('limit') ?? 100);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError(400, 'limit must be 1–1000');
        sendJson(res, 200, { items: (await c().list(limit)).map((x) => campaignView(x)) });
      },
    ],
    [
      'GET',
      /^\/api\/campaigns\/([^/]+)$/,
      async (_q, res, [id]) => {
        sendJson(res, 200, await campaignDetail(c(), id!, true));
      },
    ],

    [
      'POST',
      /^\/api\/campaigns\/([^/]+)\/(pause|resume|cancel)$/,
      async (_q, res, [id, action]) => {
        const row = await c().control(id!, action as 'pause' | 'resume' | 'cancel');
        sendJson(res, 200, campaignView(row, (await c().report(row.id)).waves));
      },
    ],
    [
      'GET',
      /^\/api\/campaigns\/([^/]+)\/report$/,
      async (_q, res, [id], url) => {
        const format = url.searchParams.get('format') ?? 'json';
        if (format !== 'json' && format !== 'csv') throw new ApiError(400, 'format must be "json" or "csv"');
        const r = await c().report(id!);
        if (format === 'json') {
          sendJson(res, 200, {
            campaign: campaignView(r.campaign),
            waves: r.waves,
            byResult: r.byResult,
            gateways: r.gateways,
            devices: r.devices,
          });
          return;
        }
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${r.campaign.id}.csv"`,
        });
        res.end(reportCsv(r));
      },
    ],
  ];
}
