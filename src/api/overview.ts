// REST routes of the dashboard's overview: the fleet at a glance (GET /api/overview) and DM
// sessions per minute (GET /api/stats/sessions). Aggregates only: no device's detail.
import type { GatewayService } from '../server/gateways.ts';
import { addCounts, FleetOverview } from '../server/overview.ts';
import type { ServerService } from '../server/service.ts';
import type { SessionTrace } from '../server/trace.ts';
import type { Route } from './gateways.ts';
import { ApiError, sendJson } from './http-json.ts';

/** the gateways' default --check-in */
const CHECK_IN_S = 60;
const MINUTES = 180;

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

/** an integer query parameter within bounds, or its default */
function bounded(url: URL, name: string, min: number, max: number, fallback: number, unit: string): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < min || n > max)
    throw new ApiError(400, `${name} must be an integer ${min}–${max} (${unit})`);
  return n;
}

export function overviewRoutes(service: ServerService, gateways: GatewayService | undefined, trace: SessionTrace | undefined): Route[] {
  const fleet = gateways ? new FleetOverview(service, gateways) : undefined;
  return [
    [
      'GET',
      /^\/api\/overview$/,
      async (_q, res, _p, url) => {
        if (!fleet) throw new ApiError(503, 'this server does not manage gateways');
        const wait = bounded(url, 'wait', 0, 120, 5, 'seconds');
        const checkIn = bounded(url, 'checkIn', 1, 86_400, CHECK_IN_S, 'seconds');
        const all = await fleet.read(wait * 1000, checkIn * 1000);
        const answered = all.flatMap((g) => (g.devices ? [g.devices] : []));
        sendJson(res, 200, {
          at: iso(Date.now()),
          checkInSeconds: checkIn,
          devices: addCounts(answered),
          gateways: all.map((g) => ({
            deviceId: g.deviceId,
            lastSeen: iso(g.lastSeen),
            missedCheckIn: g.missedCheckIn,
            devices: g.devices ?? null,
            devicesAt: iso(g.devicesAt),
            fanouts: g.fanouts.map((f) => ({ name: f.name, since: iso(f.since) })),
          })),
          missedCheckIn: all.filter((g) => g.missedCheckIn).map((g) => g.deviceId),
          unanswered: all.filter((g) => !g.devices).map((g) => g.deviceId),
          fanoutsRunning: all.reduce((n, g) => n + g.fanouts.length, 0),
        });
      },
    ],
    [
      'GET',
      /^\/api\/stats\/sessions$/,
      async (_q, res, _p, url) => {
        if (!trace) throw new ApiError(503, 'this server counts no sessions (it keeps no session trace)');
        const minutes = bounded(url, 'minutes', 1, trace.rate.minutes, MINUTES, 'minutes');
        // the fleet's when the store is shared by several instances, else this instance's
        const s = trace.fleet?.series ? await trace.fleet.series(minutes, Date.now()) : trace.rate.series(minutes, Date.now());
        sendJson(res, 200, { from: iso(s.from), minutes, sessions: s.sessions, failures: s.failures });
      },
    ],
  ];
}
