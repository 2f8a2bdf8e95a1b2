// A campaign's progress as server-sent events, the way a distribution's are (./distributions.ts):
// `snapshot` (the campaign as GET /api/campaigns/{id} gives it), `campaign` (the same without the
// per-device list, each time its row or a count changes), `device` (a device's row of one of its
// batches as it changes) and `done` (a campaign that can change no more: done or cancelled).
import type { IncomingMessage, ServerResponse } from 'node:http';

import { type Campaigns, campaignOfBatch } from '../server/campaigns.ts';
import type { Distributions } from '../server/distributions.ts';
import type { CampaignRow, DistributionDeviceRow } from '../store/server.ts';
import type { GatewayService } from '../server/gateways.ts';
import { campaignDetail } from './campaigns.ts';
import type { Route } from './gateways.ts';
import { ApiError } from './http-json.ts';
import { openEventStream } from './sse.ts';

export interface CampaignEventOptions {
  /** pause between two reads of the running batches' results while someone watches */
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
}

const FINAL: readonly CampaignRow['state'][] = ['done', 'cancelled'];

export function campaignEventRoutes(gw: GatewayService, options: CampaignEventOptions = {}): Route[] {
  // when each campaign's running batches were last read: many watchers cost the gateway one read a round
  const lastRead = new Map<string, number>();
  return [
    [
      'GET',
      /^\/api\/campaigns\/([^/]+)\/events$/,
      async (req, res, [id]) => {
        if (!gw.campaigns) throw new ApiError(503, 'this server runs no campaigns');
        await stream(req, res, gw.campaigns, gw.distributions, id!, options, lastRead);
      },
    ],
  ];
}

async function stream(
  req: IncomingMessage,
  res: ServerResponse,
  c: Campaigns,
  d: Distributions | undefined,
  id: string,
  o: CampaignEventOptions,
  lastRead: Map<string, number>,
): Promise<void> {
  const first = await campaignDetail(c, id, true); // 404 as JSON, before the stream starts
  const s = openEventStream(req, res, { heartbeatMs: o.heartbeatMs ?? 15_000 });
  s.send('snapshot', first);
  if (FINAL.includes(first['state'] as CampaignRow['state'])) {
    s.send('done', first);
    return s.end();
  }
  let wake: () => void = () => {};
  // a change marks the campaign dirty; the loop below reads it once however many came meanwhile
  let dirty = false;
  const onCampaign = (changed: string): void => {
    if (changed !== id) return;
    dirty = true;
    wake();
  };
  const onRows = (dist: string, rows: readonly DistributionDeviceRow[]): void => {
    if (campaignOfBatch(dist) !== id) return;
    for (const r of rows) s.send('device', { ...r, updatedAt: new Date(r.updatedAt).toISOString() });
    dirty = true;
    wake();
  };
  c.events.on('change', onCampaign);
  d?.events.on('change', onRows);
  s.onEnd(() => {
    c.events.off('change', onCampaign);
    d?.events.off('change', onRows);
    wake();
  });
  try {
    for (;;) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (dirty || s.closed) resolve();
        else setTimeout(resolve, o.pollMs ?? 1000).unref();
      });
      if (s.closed) return;
      if (dirty) {
        dirty = false;
        const now = await campaignDetail(c, id, false);
        s.send('campaign', now);
        if (FINAL.includes(now['state'] as CampaignRow['state'])) {
          lastRead.delete(id);
          s.send('done', await campaignDetail(c, id, true));
          return;
        }
      } else if (d && Date.now() - (lastRead.get(id) ?? 0) >= (o.pollMs ?? 1000)) {
        // while watched, the running batches' results are read as they come (their ends come by alert anyway)
        lastRead.set(id, Date.now());
        for (const name of await c.running(id).catch(() => [])) await d.refresh(name).catch(() => undefined);
      }
    }
  } finally {
    s.end();
  }
}
