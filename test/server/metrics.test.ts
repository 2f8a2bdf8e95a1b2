// /metrics on the server and on a gateway's LAN listener, scraped over HTTP after real DM sessions,
// a real fanout and a refused device.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startDevices, startGateway, startRig, startServer, GW_ID } from '../support/gw-pair.ts';
import { scrape } from '../support/metrics.ts';

const metricsOf = (dmUrl: string): string => dmUrl.replace(/\/dm$/, '/metrics');

test("a fanout moves the server's and the gateway's counters", async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url, { config: { 'InventoryAlerts/Attach': 'true' } });
  t.after(() => gw.close());
  const before = await scrape(metricsOf(srv.url));
  assert.equal(before('gwmo_dm_sessions_started_total', { role: 'server' }) ?? 0, 0);
  const devices = await startDevices(gw.gateway.lanUrl, 3);
  t.after(async () => {
    for (const d of devices) await d.stop();
  });
  await gw.gateway.idle(); // the attach alerts reached the server
  const done = srv.alertOf('resultaggregation');
  await srv.server.gateways.startFanout(
    GW_ID,
    {
      name: 'langs',
      devices: devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`),
      commands: [{ kind: 'Get', path: './DevInfo/Lang' }],
    },
    10_000,
  );
  await done;

  const s = await scrape(metricsOf(srv.url));
  assert.ok(s('gwmo_dm_sessions_started_total', { role: 'server' })! >= 2, 'the gateway held sessions with the server');
  assert.ok(s('gwmo_dm_sessions_ended_total', { role: 'server', outcome: 'done' })! >= 1);
  assert.ok(s('gwmo_dm_messages_total', { role: 'server', direction: 'in', encoding: 'wbxml' })! >= 2);
  assert.ok(s('gwmo_dm_messages_total', { role: 'server', direction: 'out', encoding: 'wbxml' })! >= 2);
  assert.ok(s('gwmo_dm_message_bytes_total', { role: 'server', direction: 'in', encoding: 'wbxml' })! > 100);
  assert.equal(s('gwmo_gateway_devices', { gateway: GW_ID }), 3, 'the server counts the devices the gateway announced');

  const g = await scrape(metricsOf(gw.gateway.lanUrl));
  // the process's memory, for operators and the soak bench (prom-client's default metrics)
  for (const series of [s, g]) {
    assert.ok(series('process_resident_memory_bytes')! > 10e6, 'RSS is exposed');
    assert.ok(series('nodejs_heap_size_used_bytes')! > 1e6, 'the JS heap is exposed');
    assert.ok(series('nodejs_external_memory_bytes')! > 0, 'external memory is exposed');
  }
  assert.equal(g('gwmo_devices_attached', { gateway: GW_ID }), 3);
  assert.equal(g('gwmo_fanout_device_results_total', { gateway: GW_ID }), 3);
  assert.equal(g('gwmo_fanout_jobs', { gateway: GW_ID, state: 'completed' }), 1);
  assert.equal(g('gwmo_fanout_jobs_running', { gateway: GW_ID }), 0);
  // the devices' first sessions and the fanout's, in XML; each fanout device was woken by a Package#0
  assert.ok(g('gwmo_dm_sessions_ended_total', { gateway: GW_ID, role: 'gateway', outcome: 'done' })! >= 6);
  assert.ok(g('gwmo_dm_messages_total', { gateway: GW_ID, role: 'gateway', direction: 'in', encoding: 'xml' })! >= 6);
  assert.equal(g('gwmo_notifications_total', { gateway: GW_ID, role: 'gateway', channel: 'udp', outcome: 'sent' }), 3);
  assert.ok(g('gwmo_gateway_north_sessions_total', { gateway: GW_ID, outcome: 'done' })! >= 1);
});

test('an unknown device counts as an authentication failure', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const [stranger] = await startDevices(srv.url, 1, 900); // no account on this server
  t.after(() => stranger!.stop());
  const s = await scrape(metricsOf(srv.url));
  // challenged like any device, it tries three times (its own limit), each a failure
  assert.equal(s('gwmo_dm_auth_failures_total', { role: 'server', scheme: 'md5', reason: 'unknown-device' }), 3);
  assert.equal(s('gwmo_dm_sessions_started_total', { role: 'server' }) ?? 0, 0);
});

test('Package#0 sent over UDP and over the push channel are counted by channel', async (t) => {
  const { srv } = await startRig(t); // its check-in tells the server the gateway's notify port
  await srv.server.service.notify(GW_ID);
  const s = await scrape(metricsOf(srv.url));
  assert.equal(s('gwmo_notifications_total', { role: 'server', channel: 'udp', outcome: 'sent' }), 1);
  // a notification for a device that polls no push channel yet is held for its next poll
  srv.server.service.push!.push(GW_ID, new Uint8Array([1]));
  const after = await scrape(metricsOf(srv.url));
  assert.equal(after('gwmo_notifications_total', { role: 'server', channel: 'push', outcome: 'held' }), 1);
});

test('a metrics token, when set, is required', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  srv.server.metrics.token = 'scrape-me';
  const url = metricsOf(srv.url);
  const refused = await fetch(url);
  assert.equal(refused.status, 401);
  assert.match(((await refused.json()) as { error: string }).error, /metrics token/);
  const s = await scrape(url, { authorization: 'Bearer scrape-me' });
  assert.equal(s('gwmo_dm_sessions_active', { role: 'server' }), 0);
});
