// A campaign across two gateways: its canary drawn from both, each gateway's batches kept to the
// per-gateway limit and running side by side, and the report per gateway (JSON and CSV).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { rig, sha } from '../support/campaign-rig.ts';
import { GW_ID, startDevices, startGateway } from '../support/gw-pair.ts';

const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;
const GW_B = 'GW:B';

async function twoGateways(t: Parameters<typeof rig>[0]) {
  const r = await rig(t, 4);
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
  });
  t.after(() => b.close());
  const devices = await startDevices(b.gateway.lanUrl, 4, 100);
  t.after(async () => {
    for (const d of devices) await d.stop();
  });
  await b.gateway.checkIn();
  const staged = await r.call('POST', `/gateways/${encodeURIComponent(GW_B)}/images`, { image: sha, name: 'fw-b' });
  assert.equal(staged.status, 202, staged.text);
  await r.srv.alertOf('imageready', 15_000, staged.json.correlator);
  return { ...r, b, bDevices: devices };
}

test('a campaign across two gateways: canary from both, per-gateway batches side by side, report per gateway', async (t) => {
  const r = await twoGateways(t);
  r.bDevices[2]!.updateFaults.corrupt = true;
  const a = [0, 1, 2, 3].map(dm);
  const b = [100, 101, 102, 103].map(dm);
  const created = await r.call('POST', '/campaigns', {
    name: 'both',
    image: sha,
    object: 'fumo',
    targets: [
      { gateway: GW_ID, devices: a },
      { gateway: GW_B, devices: b },
    ],
    canary: { share: 0.25 },
    waves: 1,
    perGatewayConcurrency: 2,
    failureThreshold: 1,
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.gatewayId, '*');
  assert.deepEqual(created.json.gateways, [
    { id: GW_ID, image: 'fw2' },
    { id: GW_B, image: 'fw-b' },
  ]);
  assert.deepEqual(created.json.waveSizes ?? created.json.waves.map((w: any) => w.devices), [2, 6]);
  const done = await r.until('both', (c) => c.state === 'done', 60_000);
  // the canary: one device of each gateway
  assert.deepEqual(done.waves[0], [a[0], b[0]]);
  // wave 1: three devices per gateway, two batches of at most 2 on each
  const batches = ['both.w1.g0.b0', 'both.w1.g0.b1', 'both.w1.g1.b0', 'both.w1.g1.b1'];
  const dists = await Promise.all(batches.map((n) => r.srv.store.getDistribution(n)));
  assert.deepEqual(
    dists.map((d) => d?.gatewayId),
    [GW_ID, GW_ID, GW_B, GW_B],
  );
  for (const n of batches) assert.ok((await r.srv.store.listDistributionDevices(n)).length <= 2, `${n} within the limit`);
  // the gateways' first batches ran at the same time: B's started before A's ended
  assert.ok(dists[2]!.createdAt < dists[0]!.updatedAt, 'the two gateways ran side by side');
  for (const [i, d] of [...r.devices, ...r.bDevices].entries()) {
    const id = [...a, ...b][i]!;
    assert.equal((await r.srv.store.listDeviceDistributions(id)).length, 1, `${id} updated once`);
    if (id !== b[2]) assert.equal(d.fumo.installed?.sha256, sha, `${id} installed`);
  }
  const report = await r.call('GET', '/campaigns/both/report?format=json');
  assert.deepEqual(report.json.gateways, [
    { gateway: GW_ID, devices: 4, succeeded: 4, failed: 0, byResult: { '200 Successful': 4 } },
    {
      gateway: GW_B,
      devices: 4,
      succeeded: 3,
      failed: 1,
      byResult: { '200 Successful': 3, '402 Corrupted Firmware Update Package': 1 },
    },
  ]);
  const csv = await r.call('GET', '/campaigns/both/report?format=csv');
  const lines = csv.text.split('\r\n');
  assert.equal(lines[0], 'wave,waveName,deviceId,object,state,status,resultCode,meaning,gateway');
  assert.deepEqual(lines.slice(1, 3), [
    `0,canary,${a[0]},fumo,succeeded,200,200,Successful,${GW_ID}`,
    `0,canary,${b[0]},fumo,succeeded,200,200,Successful,${GW_B}`,
  ]);
  assert.ok(lines.includes(`1,wave 1,${b[2]},fumo,failed,500,402,Corrupted Firmware Update Package,${GW_B}`), csv.text);
});

test('a campaign across gateways: bad targets get a 4xx with a message', async (t) => {
  const r = await twoGateways(t);
  for (const [body, status, msg] of [
    [{ image: sha, targets: [{ gateway: GW_ID }] }, 400, /targets\[0\] needs "devices" and\/or "groups"/],
    [{ image: sha, targets: [{ gateway: GW_ID, devices: [dm(0)] }], gateway: GW_ID }, 400, /not both/],
    [{ image: sha, groups: ['g'] }, 400, /groups are per gateway/],
    [{ image: sha, targets: 'GW:B' }, 400, /targets must be an array/],
    [{ image: 'f'.repeat(64), targets: [{ gateway: GW_B, devices: [dm(100)] }] }, 404, /no image/],
    [{ image: sha, devices: ['IMEI:nowhere'] }, 404, /no gateway has announced IMEI:nowhere/],
    [{ image: sha, targets: [{ gateway: GW_B, devices: [dm(0)] }] }, 404, /gateway GW:B has no device IMEI:0+0/],
  ] as const) {
    const res = await r.call('POST', '/campaigns', body);
    assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
    assert.match(res.json.error, msg);
  }
});
