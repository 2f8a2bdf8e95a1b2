// Alerts devices sent (Generic Alerts 1226 with Type, Format and Data; session alerts), per device
// and fleet-wide, newest first, and live as server-sent events.
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ServerService } from '../server/service.ts';
import type { AlertQuery, AlertRow } from '../store/server.ts';
import type { Route } from './gateways.ts';
import { ApiError, dataView, paging, sendJson } from './http-json.ts';
import { openEventStream } from './sse.ts';

// a date, or a date and time with a zone (Z or ±hh:mm): what new Date() reads the same everywhere
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
/** alerts sent again to a stream resuming after its last event (Last-Event-ID), at most */
const REPLAY = 1000;

function time(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const t = ISO_8601.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t))
    throw new ApiError(400, `${name} must be an ISO 8601 date or date-time with a zone, e.g. 2025-01-31T12:00:00Z, not "${v}"`);
  return t;
}

function positive(v: string | null, name: string): number | undefined {
  if (v === null) return undefined;
  const n = Number(v);
  if (!/^\d{1,15}$/.test(v) || n < 1) throw new ApiError(400, `${name} must be a positive integer`);
  return n;
}

/** the filters every alert route takes: type (exact, or a prefix ending in *), code, since, until */
function filters(url: URL, deviceId: string | undefined): Omit<AlertQuery, 'limit'> {
  const type = url.searchParams.get('type');
  const since = time(url, 'since');
  const until = time(url, 'until');
  const code = positive(url.searchParams.get('code'), 'code');
  if (type === '' || type === '*') throw new ApiError(400, 'type must name a Type, or a prefix of one followed by *');
  return {
    ...(deviceId !== undefined ? { deviceId } : {}),
    ...(type !== null ? (type.endsWith('*') ? { type: type.slice(0, -1), typePrefix: true } : { type }) : {}),
    ...(code !== undefined ? { code } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
  };
}

/** An alert as the API shows it: Data as text, or {base64, format} for binary formats. */
export function alertView(a: AlertRow): Record<string, unknown> {
  const items = a.items.map((i) => ({
    source: i['source'] ?? null,
    target: i['target'] ?? null,
    type: i['type'] ?? null,
    format: i['format'] ?? 'chr',
    mark: i['mark'] ?? null,
    data: i['data'] === undefined ? null : dataView(i['data'], typeof i['format'] === 'string' ? i['format'] : undefined),
  }));
  return {
    id: String(a.id),
    deviceId: a.deviceId,
    code: a.code,
    correlator: a.correlator ?? null,
    type: items[0]?.type ?? null,
    receivedAt: new Date(a.receivedAt).toISOString(),
    items,
  };
}

async function page(service: ServerService, res: ServerResponse, url: URL, deviceId: string | undefined): Promise<void> {
  const { limit, offset } = paging(url);
  const before = positive(url.searchParams.get('before'), 'before');
  const rows = await service.alerts({ ...filters(url, deviceId), limit, offset, ...(before !== undefined ? { before } : {}) });
  // the next page starts below the last id: alerts arriving meanwhile do not shift it as offsets would
  const next = rows.length === limit ? String(rows[rows.length - 1]!.id) : null;
  sendJson(res, 200, { items: rows.map(alertView), limit, offset, next });
}

export function alertRoutes(service: ServerService, options: { heartbeatMs?: number } = {}): Route[] {
  return [
    ['GET', /^\/api\/alerts$/, async (_q, res, _p, url) => page(service, res, url, url.searchParams.get('device') ?? undefined)],
    [
      'GET',
      /^\/api\/devices\/([^/]+)\/alerts$/,
      async (_q, res, [id], url) => {
        await service.device(id!); // 404 for an id with no account, as its operations answer
        await page(service, res, url, id);
      },
    ],
    [
      'GET',
      /^\/api\/alerts\/events$/,
      async (req, res, _p, url) => {
        const query = filters(url, url.searchParams.get('device') ?? undefined);
        for (const p of ['since', 'until'])
          if (url.searchParams.has(p)) throw new ApiError(400, `${p} does not apply to the live stream (Last-Event-ID resumes it)`);
        const after = positive(typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : null, 'Last-Event-ID');
        await stream(service, req, res, query, after, options.heartbeatMs ?? 15_000);
      },
    ],
  ];
}

function matches(q: Omit<AlertQuery, 'limit'>, a: AlertRow): boolean {
  const type = typeof a.items[0]?.['type'] === 'string' ? (a.items[0]['type'] as string) : undefined;
  return (
    (q.deviceId === undefined || a.deviceId === q.deviceId) &&
    (q.code === undefined || a.code === q.code) &&
    (q.type === undefined || (type !== undefined && (q.typePrefix ? type.startsWith(q.type) : type === q.type)))
  );
}

async function stream(
  service: ServerService,
  req: IncomingMessage,
  res: ServerResponse,
  q: Omit<AlertQuery, 'limit'>,
  after: number | undefined,
  heartbeatMs: number,
): Promise<void> {
  const s = openEventStream(req, res, { heartbeatMs, retryMs: 2000 });
  const send = (a: AlertRow): void => s.send('alert', alertView(a), a.id);
  // listening before the replay is read: an alert stored meanwhile is told once, by one or the other
  const replayed = new Set<number>();
  let replaying = after !== undefined;
  const held: AlertRow[] = [];
  s.onEnd(
    service.alertFeed.subscribe((a) => {
      if (!matches(q, a) || replayed.has(a.id)) return;
      if (replaying) held.push(a);
      else send(a);
    }),
  );
  if (after === undefined) return;
  try {
    const missed = (await service.alerts({ ...q, after, limit: REPLAY })).reverse();
    for (const a of missed) {
      replayed.add(a.id);
      send(a);
    }
  } catch (err) {
    // the stream has started: the failure is told as an event, and the client reconnects
    s.end(`event: error\ndata: ${JSON.stringify({ error: `the alerts after Last-Event-ID could not be read: ${String(err)}` })}\n\n`);
  } finally {
    replaying = false;
    for (const a of held.splice(0)) if (!replayed.has(a.id)) send(a);
  }
}
