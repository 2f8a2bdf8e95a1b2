// REST routes for distributions: an image the gateway holds installed by its devices through
// FUMO, SCOMO or object 5 (src/server/distributions.ts), each device's state and result, and a
// live stream of them. docs/updates.md.
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { DistributionSpec, Distributions, DistributionView } from '../server/distributions.ts';
import type { GatewayService } from '../server/gateways.ts';
import type { DistributionDeviceRow } from '../store/server.ts';
import { type Route, waitOf } from './gateways.ts';
import { ApiError, field, readJson, sendJson } from './http-json.ts';
import { openEventStream } from './sse.ts';

export interface DistributionEventOptions {
  /** pause between two reads of a running distribution's fanouts while someone watches */
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
}

/** A distribution as the API shows it: its devices, and how many are in each state and with each result. */
export function distributionView(d: DistributionView): Record<string, unknown> {
  const count = (key: (r: DistributionDeviceRow) => string | undefined): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of d.devices) {
      const k = key(r);
      if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };
  return {
    ...d,
    name: d.id,
    createdAt: new Date(d.createdAt).toISOString(),
    updatedAt: new Date(d.updatedAt).toISOString(),
    summary: {
      total: d.devices.length,
      byState: count((r) => r.state),
      byObject: count((r) => r.object),
      byResult: count((r) => (r.resultCode !== undefined ? `${r.resultCode} ${r.meaning ?? ''}`.trim() : undefined)),
    },
    devices: d.devices.map((r) => ({ ...r, updatedAt: new Date(r.updatedAt).toISOString() })),
  };
}

function spec(b: Record<string, unknown>): DistributionSpec {
  const list = (k: string): string[] | undefined => {
    const v = b[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ApiError(400, `${k} must be an array of strings`);
    return v as string[];
  };
  const object = field(b, 'object', 'string');
  if (object !== undefined && !['auto', 'fumo', 'scomo'].includes(object))
    throw new ApiError(400, 'object must be "auto", "fumo" or "scomo"');
  const name = field(b, 'name', 'string');
  const timeout = field(b, 'timeout', 'number');
  const devices = list('devices');
  const groups = list('groups');
  return {
    image: field(b, 'image', 'string', true)!,
    ...(name !== undefined ? { name } : {}),
    ...(object !== undefined ? { object: object as 'auto' | 'fumo' | 'scomo' } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(devices ? { devices } : {}),
    ...(groups ? { groups } : {}),
  };
}

export function distributionRoutes(gw: GatewayService, options: DistributionEventOptions = {}): Route[] {
  const d = (): Distributions => {
    if (!gw.distributions) throw new ApiError(503, 'this server runs no distributions');
    return gw.distributions;
  };
  return [
    [
      'POST',
      /^\/api\/gateways\/([^/]+)\/distributions$/,
      async (req, res, [id], url) => {
        const view = await d().start(id!, spec(await readJson(req)), waitOf(url));
        sendJson(res, 202, { ...distributionView(view), started: true });
      },
    ],
    [
      'POST',
      /^\/api\/distributions$/,
      async (req, res, _p, url) => {
        const b = await readJson(req);
        if (b['groups'] !== undefined) throw new ApiError(400, 'groups are per gateway: POST /api/gateways/{gw}/distributions');
        const views = await d().startAcross(spec(b), waitOf(url));
        sendJson(res, 202, { items: views.map(distributionView) });
      },
    ],
    [
      'GET',
      /^\/api\/distributions$/,
      async (_q, res, _p, url) => {
        const limit = Number(url.searchParams.get('limit') ?? 100);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError(400, 'limit must be 1–1000');
        const items = await d().list(url.searchParams.get('gateway') ?? undefined, limit);
        sendJson(res, 200, {
          items: items.map((x) => ({
            ...x,
            createdAt: new Date(x.createdAt).toISOString(),
            updatedAt: new Date(x.updatedAt).toISOString(),
          })),
        });
      },
    ],
    [
      'GET',
      /^\/api\/distributions\/([^/]+)$/,
      async (_q, res, [id]) => {
        sendJson(res, 200, distributionView(await d().get(id!)));
      },
    ],
    [
      'GET',
      /^\/api\/distributions\/([^/]+)\/events$/,
      async (req, res, [id]) => {
        await stream(req, res, d(), id!, options);
      },
    ],
  ];
}

/** `snapshot` (the distribution as it is), `device` (a device's row as it changes), `done` (the distribution at its end). */
async function stream(req: IncomingMessage, res: ServerResponse, d: Distributions, id: string, o: DistributionEventOptions): Promise<void> {
  const first = await d.get(id); // 404 as JSON, before the stream starts
  const s = openEventStream(req, res, { heartbeatMs: o.heartbeatMs ?? 15_000 });
  s.send('snapshot', distributionView(first));
  // already over: said at once, so a client does not reconnect to a stream that has nothing more
  if (first.state === 'done') {
    s.send('done', distributionView(first));
    return s.end();
  }
  let wake: () => void = () => {};
  const onChange = (changed: string, rows: readonly DistributionDeviceRow[]): void => {
    if (changed !== id) return;
    for (const r of rows) s.send('device', { ...r, updatedAt: new Date(r.updatedAt).toISOString() });
  };
  const onEnd = (ended: string): void => {
    if (ended === id) wake();
  };
  d.events.on('change', onChange);
  d.events.on('end', onEnd);
  s.onEnd(() => {
    d.events.off('change', onChange);
    d.events.off('end', onEnd);
    wake();
  });
  try {
    // while watched, the gateway's fanouts are read for results as they come (their end comes by alert anyway)
    for (;;) {
      const now = await d.get(id);
      if (s.closed) return;
      if (now.state === 'done') {
        s.send('done', distributionView(now));
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, o.pollMs ?? 1000).unref();
      });
      if (!s.closed && (await d.get(id)).state !== 'done') await d.refresh(id).catch(() => undefined);
    }
  } finally {
    s.end();
  }
}
