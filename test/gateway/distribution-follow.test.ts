// A DM device that moves from gateway A to gateway B while its distribution on A runs.
// Actors: the server; gateway A (GW_ID, image staged as `fw2`) with devices 0 and 1; gateway B
// (GW:B, image staged as `fw-b`, or not at all); "left" is device 1's simulator at A, stopped when
// the distribution starts (A's commands for it stay queued); "arrived" is device 1 turning up behind
// B (another simulator of the same DevId, as a device carried to another site would be).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import type { DistributionRow } from '../../src/store/server.ts';
import { countInstalls, rig, sha } from '../support/campaign-rig.ts';
import { GW_ID, lanDevice, startGateway } from '../support/gw-pair.ts';

const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;
const GW_B = 'GW:B';
const attach = { 'InventoryAlerts/Attach': 'true' };

/** the distribution once it is done (checked now and at each end) */
function ended(r: Awaited<ReturnType<typeof rig>>, id: string, ms = 60_000): Promise<DistributionRow> {
  const events = r.srv.server.distributions.events;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      events.off('end', check);
      reject(new Error(`distribution ${id} not done within ${ms} ms`));
    }, ms);
    const check = async (ended?: string) => {
      if (ended !== undefined && ended !== id) return;
      const d = await r.srv.store.getDistribution(id);
      if (d?.state !== 'done') return;
      clearTimeout(timer);
      events.off('end', check);
      resolve(d);
    };
    events.on('end', check);
    void check();
  });
}

async function twoGateways(t: Parameters<typeof rig>[0], stageOnB: boolean) {
  const r = await rig(t, 2, { config: attach });
  await r.srv.server.service.addDevice({
    deviceId: GW_B,
    name: 'gwb',
    password: 'gwb-pw',
    serverName: 'srv',
    serverPassword: 'srv-pw',
    scheme: 'md5',
  });
  const b = await startGateway(r.srv.url, {
    deviceId: GW_B,
    account: { name: 'gwb', password: 'gwb-pw', serverPassword: 'srv-pw' },
    imageDir: join(r.dir, 'gateway-b'),
    config: attach,
  });
  t.after(() => b.close());
  await b.gateway.checkIn();
  if (stageOnB) {
    const staged = await r.call('POST', `/gateways/${encodeURIComponent(GW_B)}/images`, { image: sha, name: 'fw-b' });
    assert.equal(staged.status, 202, staged.text);
    await r.srv.alertOf('imageready', 15_000, staged.json.correlator);
  }
  await r.srv.alertOf('deviceattached');
  assert.equal((await r.srv.store.getLocation(dm(1)))?.gatewayId, GW_ID);
  return { ...r, b };
}

/** Starts `name` on A for devices 0 and 1 with device 1 away from A, then brings device 1 up behind B. */
async function moveMidDistribution(r: Awaited<ReturnType<typeof twoGateways>>, t: Parameters<typeof rig>[0], name: string) {
  const left = r.devices[1]!;
  const installs = countInstalls(r.devices);
  await left.stop(); // off A's LAN: A's Package#0 goes nowhere, its commands stay queued
  const sent = new Promise<void>((resolve) => {
    const events = r.srv.server.distributions.events;
    const on = (id: string): void => {
      if (id !== name) return;
      events.off('change', on);
      resolve();
    };
    events.on('change', on);
  });
  const started = await r.call('POST', `/gateways/${encodeURIComponent(GW_ID)}/distributions`, {
    image: 'fw2',
    name,
    devices: [dm(0), dm(1)],
    object: 'fumo',
    timeout: 60,
  });
  assert.equal(started.status, 202, started.text);
  await sent;
  const arrived = new DmDevice(lanDevice(r.b.gateway.lanUrl, dm(1)));
  t.after(() => arrived.stop());
  const arrivedInstalls = countInstalls([arrived]);
  r.srv.alerts.length = 0;
  const announced = r.srv.alertOf('deviceattached', 20_000);
  await arrived.start();
  await arrived.session();
  await announced;
  const done = await ended(r, name);
  return { done, left, arrived, installs, arrivedInstalls };
}

const metric = async (r: Awaited<ReturnType<typeof rig>>, outcome: string): Promise<number> => {
  const text = await r.srv.server.metrics.registry.getSingleMetricAsString('gwmo_distribution_follows_total');
  return Number(new RegExp(`outcome="${outcome}"} (\\d+)`).exec(text)?.[1] ?? 0);
};

test('a device that moves to gateway B mid-distribution is updated once, through B, and its row names B', {
  timeout: 120_000,
}, async (t) => {
  const r = await twoGateways(t, true);
  const m = await moveMidDistribution(r, t, 'roam');
  assert.equal(m.done.state, 'done');
  const rows = await r.srv.store.listDistributionDevices('roam');
  assert.deepEqual(
    rows.map((d) => [d.deviceId, d.state, d.resultCode, d.gatewayId]),
    [
      [dm(0), 'succeeded', 200, undefined],
      [dm(1), 'succeeded', 200, GW_B],
    ],
  );
  const follow = m.done.fanouts.find((f) => f.follow);
  assert.deepEqual(
    [follow?.name, follow?.follow?.gatewayId, follow?.follow?.image, follow?.follow?.devices, follow?.done],
    ['roam.follow1', GW_B, 'fw-b', [dm(1)], true],
  );
  assert.equal(m.arrived.fumo.installed?.sha256, sha);
  assert.deepEqual([m.installs, m.arrivedInstalls], [[1, 0], [1]]);
  assert.equal(await metric(r, 'followed'), 1);
  const api = await r.call('GET', '/distributions/roam');
  assert.equal(api.json.devices.find((d: { deviceId: string }) => d.deviceId === dm(1)).gatewayId, GW_B);
  // the simulator left at A comes back there: A gave up on it when the server said it left, so
  // nothing queued for it is delivered, and the device is not updated a second time
  await m.arrived.stop();
  await m.left.start();
  await m.left.session();
  await r.gw.gateway.idle();
  assert.deepEqual(m.installs, [1, 0]);
  assert.equal(m.left.fumo.installed, undefined);
  assert.equal((await r.srv.store.listDeviceDistributions(dm(1))).length, 1, 'one row for the device');
});

test('a device that moves to a gateway without the image fails, saying so, and is updated nowhere', { timeout: 120_000 }, async (t) => {
  const r = await twoGateways(t, false);
  const m = await moveMidDistribution(r, t, 'stray');
  const row = (await r.srv.store.listDistributionDevices('stray')).find((d) => d.deviceId === dm(1));
  assert.equal(row?.state, 'failed');
  assert.equal(row?.gatewayId, GW_B);
  assert.match(row?.meaning ?? '', /^moved to GW:B, where image fw2 is not staged/);
  assert.equal(
    m.done.fanouts.some((f) => f.follow),
    false,
  );
  assert.deepEqual([m.installs, m.arrivedInstalls], [[1, 0], [0]]);
  assert.equal(await metric(r, 'not_staged'), 1);
});
