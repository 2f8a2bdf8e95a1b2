// Campaigns through a real server, gateway and simulated DM devices: a bad canary halts the
// campaign and says why, with no device past it touched; waves in batches of the per-gateway
// concurrency, paused and resumed between them; a closed window; the report as JSON and CSV.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rig, sha } from '../support/campaign-rig.ts';
import { GW_ID } from '../support/gw-pair.ts';

const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;

test('a bad canary halts the campaign, says why, and no device after it is touched', async (t) => {
  const r = await rig(t, 6);
  for (const d of r.devices) d.updateFaults.corrupt = true;
  const created = await r.call('POST', '/campaigns', {
    name: 'bad',
    gateway: GW_ID,
    image: 'fw2',
    object: 'fumo',
    devices: [0, 1, 2, 3, 4, 5].map(dm),
    canary: { count: 2 },
    waves: 2,
    failureThreshold: 0.25,
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json.waveSizes ?? created.json.waves.map((w: any) => w.devices), [2, 2, 2]);
  const halted = await r.until('bad', (c) => c.state === 'halted');
  assert.equal(halted.reason, 'canary: 2 of 2 devices failed (100% > threshold 25%): 2 × 402 Corrupted Firmware Update Package');
  for (const i of [2, 3, 4, 5]) assert.deepEqual(await r.srv.store.listDeviceDistributions(dm(i)), [], `${dm(i)} was left alone`);
  const report = await r.call('GET', '/campaigns/bad/report?format=json');
  assert.deepEqual(
    report.json.waves.map((w: any) => [w.name, w.state, w.failed, w.failureRatio]),
    [
      ['canary', 'done', 2, 1],
      ['wave 1', 'pending', 0, 0],
      ['wave 2', 'pending', 0, 0],
    ],
  );
  assert.deepEqual(report.json.byResult, { '402 Corrupted Firmware Update Package': 2 });
  const csv = await r.call('GET', '/campaigns/bad/report?format=csv');
  assert.equal(csv.type, 'text/csv; charset=utf-8');
  assert.deepEqual(csv.text.split('\r\n').slice(0, 4), [
    'wave,waveName,deviceId,object,state,status,resultCode,meaning,gateway',
    `0,canary,${dm(0)},fumo,failed,500,402,Corrupted Firmware Update Package,${GW_ID}`,
    `0,canary,${dm(1)},fumo,failed,500,402,Corrupted Firmware Update Package,${GW_ID}`,
    `1,wave 1,${dm(2)},,pending,,,,${GW_ID}`,
  ]);
  // a halted campaign can be cancelled, and then nothing more
  assert.equal((await r.call('POST', '/campaigns/bad/cancel')).json.state, 'cancelled');
  const again = await r.call('POST', '/campaigns/bad/resume');
  assert.equal(again.status, 409);
  assert.match(again.json.error, /cancelled: it cannot resume/);
});

test('waves in batches of the concurrency limit, paused between two and resumed: each device updated once', async (t) => {
  const r = await rig(t, 5);
  const ids = [0, 1, 2, 3, 4].map(dm);
  const created = await r.call('POST', '/campaigns', {
    name: 'good',
    gateway: GW_ID,
    image: 'fw2',
    object: 'fumo',
    devices: ids,
    canary: { share: 0.2 },
    waves: [2],
    perGatewayConcurrency: 1,
  });
  assert.equal(created.status, 201, created.text);
  // paused while the canary runs: it ends, and nothing after it starts
  assert.equal((await r.call('POST', '/campaigns/good/pause')).json.state, 'paused');
  await new Promise<void>((resolve, reject) => {
    const d = r.srv.server.distributions.events;
    const timer = setTimeout(() => reject(new Error('the canary did not end')), 30_000);
    const on = async (id?: string) => {
      if (id !== undefined && id !== 'good.w0.b0') return;
      if ((await r.srv.store.getDistribution('good.w0.b0'))?.state !== 'done') return;
      clearTimeout(timer);
      d.off('end', on);
      resolve();
    };
    d.on('end', on);
    void on();
  });
  await r.srv.server.campaigns.advance('good'); // a step now would start wave 1 were it not paused
  const paused = await r.srv.store.getCampaign('good');
  assert.equal(paused?.state, 'paused');
  assert.equal(await r.srv.store.getDistribution('good.w1.b0'), undefined, 'no wave starts while paused');
  assert.equal((await r.call('POST', '/campaigns/good/resume')).status, 200);
  const done = await r.until('good', (c) => c.state === 'done');
  assert.deepEqual(
    done.waves.map((w) => w.length),
    [1, 2, 2],
  );
  // wave 1 went as two batches of one device each
  assert.equal((await r.srv.store.listDistributionDevices('good.w1.b1')).length, 1);
  for (const [i, d] of r.devices.entries()) {
    assert.equal(d.fumo.installed?.sha256, sha, `${ids[i]} installed`);
    assert.equal((await r.srv.store.listDeviceDistributions(ids[i]!)).length, 1, `${ids[i]} updated once`);
  }
  const view = await r.call('GET', '/campaigns/good');
  assert.deepEqual(
    view.json.waves.map((w: any) => [w.name, w.state, w.succeeded]),
    [
      ['canary', 'done', 1],
      ['wave 1', 'done', 2],
      ['wave 2', 'done', 2],
    ],
  );
  assert.deepEqual(view.json.byResult, { '200 Successful': 5 });
});

test('a window already closed expires the campaign before any device; bad input is a 400 with a message', async (t) => {
  const r = await rig(t, 1);
  const late = await r.call('POST', '/campaigns', {
    name: 'late',
    gateway: GW_ID,
    image: 'fw2',
    devices: [dm(0)],
    window: { notBefore: '2020-01-01T00:00:00Z', notAfter: '2020-01-02T00:00:00Z' },
  });
  assert.equal(late.status, 201, late.text);
  assert.equal(late.json.state, 'expired');
  assert.equal(late.json.reason, 'the window closed at 2020-01-02T00:00:00.000Z with 1 devices not started');
  assert.deepEqual(await r.srv.store.listDeviceDistributions(dm(0)), []);
  const base = { gateway: GW_ID, image: 'fw2', devices: [dm(0)] };
  for (const [body, msg] of [
    [{ ...base, canary: { share: 2 } }, /canary.share must be between 0 and 1/],
    [{ ...base, canary: { count: 1, share: 0.1 } }, /canary takes one of/],
    [{ ...base, waves: 0 }, /waves must be a count/],
    [{ ...base, failureThreshold: 1.5 }, /failureThreshold must be a ratio/],
    [{ ...base, perGatewayConcurrency: 0 }, /perGatewayConcurrency must be/],
    [{ ...base, window: { notAfter: 'soon' } }, /window.notAfter must be an ISO 8601 date/],
    [{ gateway: GW_ID, image: 'fw2' }, /needs targets/],
    [{ ...base, name: 'late' }, /exists/],
  ] as const) {
    const res = await r.call('POST', '/campaigns', body);
    assert.ok(res.status === 400 || res.status === 409, `${JSON.stringify(body)}: ${res.status}`);
    assert.match(res.json.error, msg);
  }
  assert.equal((await r.call('GET', '/campaigns/nope')).status, 404);
  assert.equal((await r.call('GET', '/campaigns/late/report?format=xml')).status, 400);
});
