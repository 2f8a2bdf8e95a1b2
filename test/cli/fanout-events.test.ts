// `gwmo fanout` follows the job through its server-sent events (as the dashboard does) and reads
// the job by polling only where the server has no events route (an older server).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';

import { apiRoutes } from '../../src/api/routes.ts';
import { type CliRun, runCli } from '../support/cli.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

/** A server, a gateway and three devices; `requests` lists the API requests the server got. */
async function rig(t: { after(fn: () => unknown): void }, options: { eventsRoute: boolean }) {
  const requests: string[] = [];
  const srv = await startServer({
    routes: (s, g, j, tr) => {
      const api = apiRoutes(s, g, j, tr);
      return async (req: IncomingMessage, res) => {
        if (req.url?.startsWith('/api/')) requests.push(`${req.method} ${req.url}`);
        if (!options.eventsRoute && /\/events$/.test(req.url ?? '')) return false; // as a server from before the route
        return api(req, res);
      };
    },
  });
  t.after(() => srv.close());
  const gw = await startGateway(srv.url);
  t.after(() => gw.close());
  const devices = await startDevices(gw.gateway.lanUrl, 3);
  t.after(async () => {
    for (const d of devices) await d.stop();
  });
  await gw.gateway.checkIn();
  const ids = devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`);
  const fanout = (name: string) =>
    runCli(
      [
        'fanout',
        GW_ID,
        '--api',
        srv.url.replace(/\/dm$/, '/api'),
        '--name',
        name,
        '--every',
        '0.2',
        '--device',
        ...ids,
        '--command',
        '{"kind":"Get","path":"./DevInfo/Mod"}',
      ],
      undefined,
      60_000,
    );
  return { requests, fanout };
}

function assertFollowed(r: CliRun, name: string): void {
  assert.equal(r.code, 0, r.stderr);
  const end = JSON.parse(r.stdout.toString()) as {
    name: string;
    State: string;
    Aggregate: Record<string, string>;
    Results: Record<string, unknown>;
  };
  assert.deepEqual([end.name, end.State, end.Aggregate, Object.keys(end.Results).length], [name, '30', { 200: '3' }, 3]);
  assert.equal(
    r.stderr
      .split('\n')
      .filter((l) => l !== '')
      .at(-1),
    `progress 3/3 devices (fanout ${name})`,
  );
}

test('gwmo fanout follows the job over its server-sent events: one stream, no polling reads', async (t) => {
  const { requests, fanout } = await rig(t, { eventsRoute: true });
  const r = await fanout('live');
  assertFollowed(r, 'live');
  const reads = requests.filter((q) => q.startsWith('GET /api/gateways/') && q.includes('/fanouts/live'));
  assert.deepEqual(reads, [`GET /api/gateways/${encodeURIComponent(GW_ID)}/fanouts/live/events`]);
});

test('gwmo fanout against a server without the events route falls back to polling, with the same output', async (t) => {
  const { requests, fanout } = await rig(t, { eventsRoute: false });
  const r = await fanout('polled');
  assertFollowed(r, 'polled');
  const reads = requests.filter((q) => q.startsWith('GET /api/gateways/') && q.includes('/fanouts/polled'));
  assert.equal(reads[0], `GET /api/gateways/${encodeURIComponent(GW_ID)}/fanouts/polled/events`);
  assert.ok(reads.length >= 2 && reads.slice(1).every((q) => q.endsWith('/fanouts/polled?wait=10')), reads.join('\n'));
});
