// REST routes of the session trace viewer: recent DM sessions and their messages as XML, secrets masked.
import type { SessionTrace } from '../server/trace.ts';
import { messageXml } from '../server/trace.ts';
import { localTraces, type TraceSource, type TraceSummary } from '../server/trace-share.ts';
import type { Route } from './gateways.ts';
import { ApiError, paging, sendJson } from './http-json.ts';

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

function sessionView(s: TraceSummary): Record<string, unknown> {
  return {
    id: s.id,
    deviceId: s.deviceId,
    dmSessionId: s.dmSessionId,
    startedAt: iso(s.startedAt),
    endedAt: iso(s.endedAt),
    outcome: s.outcome ?? null,
    messages: s.messages,
    bytes: s.bytes,
    dropped: s.dropped,
  };
}

export function sessionRoutes(trace: SessionTrace | undefined): Route[] {
  // with a shared store, the fleet's sessions (whichever instance traced them); else this instance's
  const kept = (): TraceSource => {
    if (!trace) throw new ApiError(503, 'this server records no session traces');
    return trace.fleet ?? localTraces(trace);
  };
  return [
    [
      'GET',
      /^\/api\/sessions$/,
      async (_q, res, _p, url) => {
        const { limit, offset } = paging(url);
        const device = url.searchParams.get('deviceId');
        const { items, total } = await kept().list({ ...(device !== null ? { deviceId: device } : {}), limit, offset });
        sendJson(res, 200, { items: items.map(sessionView), total, limit, offset });
      },
    ],
    [
      'GET',
      /^\/api\/sessions\/([^/]+)\/trace$/,
      async (_q, res, [id]) => {
        const s = await kept().get(id!);
        if (!s)
          throw new ApiError(404, `no session "${id}" in the trace (only the last sessions are kept); list them with GET /api/sessions`);
        sendJson(res, 200, {
          ...sessionView(s),
          trace: s.trace.map((m, i) => ({
            n: i + 1,
            direction: m.direction,
            encoding: m.encoding,
            bytes: m.bytes.length,
            at: iso(m.at),
            ...(m.httpStatus !== undefined ? { httpStatus: m.httpStatus } : {}),
            xml: messageXml(m),
          })),
        });
      },
    ],
  ];
}
