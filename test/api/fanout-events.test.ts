// Fanout progress as server-sent events over real HTTP: a real gateway runs the job one device at a
// time; the events come in order, progress never goes back, and the stream ends with the final job.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { fanoutEventRoutes } from '../../src/api/fanout-events.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';
import { events, type Sse } from '../support/sse.ts';

test('fanout events: in order, progress only grows, and the stream ends with the final state', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const devices = await startDevices(gw.gateway.lanUrl, 4);
  try {
    await gw.gateway.checkIn();
    const api = srv.url.replace(/\/dm$/, '/api');
    const gid = encodeURIComponent(GW_ID);
    const ids = devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`);
    const start = await fetch(`${api}/gateways/${gid}/fanouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'live', devices: ids, concurrency: 1, commands: [{ kind: 'Get', path: './DevInfo/Mod' }] }),
    });
    assert.equal(start.status, 202);
    const res = await fetch(`${api}/gateways/${gid}/fanouts/live/events`, { signal: AbortSignal.timeout(30_000) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const seen: Sse[] = [];
    for await (const e of events(res)) if (e !== 'heartbeat') seen.push(e);
    // the loop ends only because the server ended the stream
    assert.ok(seen.length >= 1);
    assert.deepEqual(
      seen.map((e) => Number(e.id)),
      seen.map((_, i) => i + 1),
      'ids count up',
    );
    const jobs = seen.map(
      (e) => JSON.parse(e.data) as { State: string; Progress: Record<string, string>; Aggregate: Record<string, string> },
    );
    const done = jobs.map((j) => Number(j.Progress['Done']));
    assert.deepEqual(
      done,
      [...done].sort((a, b) => a - b),
      'progress never goes back',
    );
    assert.deepEqual(
      seen.map((e) => e.event),
      [...seen.slice(1).map(() => 'progress'), 'done'],
    );
    const last = jobs[jobs.length - 1]!;
    assert.equal(last.State, '30');
    assert.deepEqual(last.Progress, { Total: '4', Done: '4', Succeeded: '4', Failed: '0', InDoubt: '0' });
    assert.deepEqual(last.Aggregate, { 200: '4' });

    const missing = await fetch(`${api}/gateways/${gid}/fanouts/nosuch/events`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /no fanout "nosuch"/);
  } finally {
    for (const d of devices) await d.stop();
    await gw.close();
    await srv.close();
  }
});

test('a quiet stream gets heartbeats while the job runs, and a job that fails per device still ends with done', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const devices = await startDevices(gw.gateway.lanUrl, 1);
  // the events route alone, with a short heartbeat, on its own listener
  const [route] = fanoutEventRoutes(srv.server.gateways, { heartbeatMs: 50, pollMs: 200 });
  const http = createServer(
    (req, res) => void route![2](req, res, route![1].exec(req.url!)!.slice(1).map(decodeURIComponent), new URL(req.url!, 'http://x')),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    await gw.gateway.checkIn();
    await devices[0]!.stop(); // it cannot be woken: the job waits out its per-device timeout
    const api = srv.url.replace(/\/dm$/, '/api');
    const gid = encodeURIComponent(GW_ID);
    const start = await fetch(`${api}/gateways/${gid}/fanouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'slow',
        devices: ['IMEI:000000000000000'],
        timeout: 2,
        retries: 0,
        commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
      }),
    });
    assert.equal(start.status, 202);
    const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/api/gateways/${gid}/fanouts/slow/events`, {
      signal: AbortSignal.timeout(30_000),
    });
    let heartbeats = 0;
    const seen: Sse[] = [];
    for await (const e of events(res))
      if (e === 'heartbeat') heartbeats++;
      else seen.push(e);
    assert.ok(heartbeats >= 2, `${heartbeats} heartbeats`);
    const last = JSON.parse(seen[seen.length - 1]!.data) as { State: string; Progress: Record<string, string> };
    assert.equal(seen[seen.length - 1]!.event, 'done');
    assert.deepEqual([last.State, last.Progress['Failed']], ['30', '1']);
  } finally {
    http.close();
    await gw.close();
    await srv.close();
  }
});
