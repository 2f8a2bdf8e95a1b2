// The demo holds a server and two gateways in one process: each has its own /metrics.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { AUTH, GwmoProcess } from '../support/process.ts';
import { scrape } from '../support/metrics.ts';

test('gwmo demo: the server and each gateway are scraped apart, each gateway under its own label', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-demo-metrics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const demo = new GwmoProcess(['demo', '--port', '0', '--dm', '2', '--lwm2m', '0', '--move-every', '3600', '--data-dir', dir]);
  t.after(() => demo.stop());
  const ready = await demo.waitFor((l) => l.event === 'demo.ready', 30_000);
  const [server, gw1, gw2] = ready['metrics'] as string[];
  // a session with gateway 2 after demo.ready carries any inventory alert it still had queued
  const inv = await fetch(`${String(ready['api'])}/gateways/GW%3ADEMO-2/devices?wait=10`, { headers: AUTH });
  assert.equal(inv.status, 200);
  const s = await scrape(server!);
  assert.ok(s('gwmo_dm_sessions_started_total', { role: 'server' })! >= 2, 'both gateways checked in');
  assert.ok(s('gwmo_gateway_devices', { gateway: 'GW:DEMO-2' })! >= 2, 'gateway 2 announced its devices');
  const one = await scrape(gw1!);
  const two = await scrape(gw2!);
  assert.ok(one('gwmo_devices_attached', { gateway: 'GW:DEMO-1' })! >= 3, 'two DM devices and the transparent one');
  assert.equal(one('gwmo_devices_attached', { gateway: 'GW:DEMO-2' }), undefined);
  assert.equal(two('gwmo_devices_attached', { gateway: 'GW:DEMO-2' }), 2);
  assert.ok(two('gwmo_dm_sessions_ended_total', { gateway: 'GW:DEMO-2', role: 'gateway', outcome: 'done' })! >= 2);
});
