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

/**
 * Starts distribution `name` on A (or, with `campaign`, the campaign whose batch `name` is) for
 * devices 0 and 1 with device 1 away from A, then brings device 1 up behind B.
 */
async function moveMidDistribution(
  r: Awaited<ReturnType<typeof twoGateways>>,
  t: Parameters<typeof rig>[0],
  name: string,
  campaign?: string,
) {
  const left = r.devices[1]!;
  const installs = countInstalls(r.devices);
  await left.stop(); // off A's LAN: A's Package#0 goes nowhere, its commands stay queued
  const sent = new Promise<void>((resolve, reject) => {
    const events = r.srv.server.distributions.events;
    const timer = setTimeout(() => reject(new Error(`distribution ${name} did not change within 30 s`)), 30_000);
    const on = (id: string): void => {
      if (id !== name) return;
      events.off('change', on);
      clearTimeout(timer);
      resolve();
    };
    events.on('change', on);
  });
  const body = { image: 'fw2', devices: [dm(0), dm(1)], object: 'fumo', timeout: 60 };
  const started = campaign
    ? await r.call('POST', '/campaigns', { ...body, name: campaign, gateway: GW_ID, waves: 1, failureThreshold: 0 })
    : await r.call('POST', `/gateways/${encodeURIComponent(GW_ID)}/distributions`, { ...body, name });
  assert.equal(started.status, campaign ? 201 : 202, started.text);
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

test('a campaign whose device moves mid-batch counts it once, as succeeded, and its report names the gateway it finished at', {
  timeout: 120_000,
}, async (t) => {
  const r = await twoGateways(t, true);
  const m = await moveMidDistribution(r, t, 'trip.w1.b0', 'trip');
  const c = await r.until('trip', (x) => x.state !== 'running', 60_000);
  assert.equal(c.state, 'done', c.reason);
  const report = await r.call('GET', '/campaigns/trip/report?format=json');
  assert.deepEqual(
    report.json.devices.map((d: any) => [d.deviceId, d.state, d.resultCode, d.gateway]),
    [
      [dm(0), 'succeeded', 200, GW_ID],
      [dm(1), 'succeeded', 200, GW_B],
    ],
  );
  assert.deepEqual(
    report.json.waves.map((w: any) => [w.devices, w.succeeded, w.failed]),
    [[2, 2, 0]],
  );
  assert.deepEqual([m.installs, m.arrivedInstalls], [[1, 0], [1]]);
});

test('a follow stored but not yet sent when the server stopped is sent by recover, and only once', { timeout: 120_000 }, async (t) => {
  const r = await twoGateways(t, true);
  const arrived = new DmDevice(lanDevice(r.b.gateway.lanUrl, dm(7)));
  t.after(() => arrived.stop());
  const installs = countInstalls([arrived]);
  await arrived.start();
  await arrived.session();
  await r.b.gateway.checkIn();
  const onA = await r.srv.server.gateways.imageOnGateway(GW_ID, 'fw2', 10_000);
  const onB = await r.srv.server.gateways.imageOnGateway(GW_B, 'fw-b', 10_000);
  const long = Date.now() - 120_000;
  // what the store holds when the server stopped between recording the follow and B taking it
  const row: DistributionRow = {
    id: 'cut-follow',
    gatewayId: GW_ID,
    image: 'fw2',
    ...onA,
    object: 'fumo',
    state: 'running',
    timeout: 600,
    fanouts: [
      { name: 'cut-follow.fumo', correlator: 'dist:cut-follow:fumo', object: 'fumo', ended: true, done: true },
      {
        name: 'cut-follow.follow1',
        correlator: 'dist:cut-follow:follow1',
        object: 'fumo',
        done: false,
        follow: {
          gatewayId: GW_B,
          from: 'cut-follow.fumo',
          devices: [dm(7)],
          image: 'fw-b',
          url: onB.url,
          version: onB.version,
          timeout: 60,
        },
      },
    ],
    createdAt: long,
    updatedAt: long,
  };
  await r.srv.store.putDistribution(row);
  await r.srv.store.putDistributionDevices([
    // stopped before its row was marked for B, too: the row still says sent, at A
    { distributionId: 'cut-follow', deviceId: dm(7), object: 'fumo', state: 'sent', updatedAt: long },
  ]);
  const distributions = r.srv.server.distributions;
  await distributions.recover(60_000);
  const done = await ended(r, 'cut-follow');
  assert.deepEqual(
    (await r.srv.store.listDistributionDevices('cut-follow')).map((d) => [d.state, d.resultCode, d.gatewayId]),
    [['succeeded', 200, GW_B]],
  );
  assert.deepEqual(installs, [1]);
  // its end alert lost as well: B still holds the fanout, so recover leaves it there and sends nothing again
  await r.srv.store.putDistribution({
    ...done,
    state: 'running',
    fanouts: done.fanouts.map((f) => ({ ...f, ended: false, done: false })),
    updatedAt: long,
  });
  const asked = r.srv.alerts.length;
  for (let i = 0; i < 3; i++) await distributions.recover(60_000);
  await r.b.gateway.idle();
  assert.deepEqual(installs, [1]);
  assert.equal(r.srv.alerts.length, asked, 'no fanout ran again on B');
  const starts = (await r.srv.store.listOperations(GW_B)).filter((o) => o.target.endsWith('/cut-follow.follow1/Operations/Start'));
  assert.equal(starts.length, 1, 'B was asked to start the follow once');
});

test('a stored follow that cannot be started ends its device failed, saying why, and the distribution done', {
  timeout: 60_000,
}, async (t) => {
  const r = await twoGateways(t, true);
  const onA = await r.srv.server.gateways.imageOnGateway(GW_ID, 'fw2', 10_000);
  const long = Date.now() - 120_000;
  await r.srv.store.putDistribution({
    id: 'bad-follow',
    gatewayId: GW_ID,
    image: 'fw2',
    ...onA,
    object: 'fumo',
    state: 'running',
    fanouts: [
      { name: 'bad-follow.fumo', correlator: 'dist:bad-follow:fumo', object: 'fumo', ended: true, done: true },
      {
        name: 'bad-follow.follow1',
        correlator: 'dist:bad-follow:follow1',
        object: 'scomo',
        done: false,
        // an image name no SCOMO node takes (a store written by hand): refused before anything is sent
        follow: { gatewayId: GW_B, from: 'bad-follow.fumo', devices: [dm(7)], image: 'fw b', url: onA.url, version: onA.version },
      },
    ],
    createdAt: long,
    updatedAt: long,
  });
  await r.srv.store.putDistributionDevices([
    { distributionId: 'bad-follow', deviceId: dm(7), object: 'scomo', state: 'sent', updatedAt: long },
  ]);
  await r.srv.server.distributions.recover(60_000);
  await r.srv.server.distributions.recover(60_000); // the first round asked B; this one reads its 404
  const done = await ended(r, 'bad-follow', 15_000);
  assert.equal(done.state, 'done');
  const [row] = await r.srv.store.listDistributionDevices('bad-follow');
  assert.deepEqual([row?.state, row?.gatewayId], ['failed', GW_B]);
  assert.match(row?.meaning ?? '', /^moved to GW:B, which did not take the fanout: .*fw b/);
});
