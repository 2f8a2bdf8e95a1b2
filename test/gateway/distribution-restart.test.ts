// Distributions that survive what an operator (and a crash) does: two starts of one name at once
// (the second is a 409, the first keeps its devices), and starts the server did not finish (a
// distribution stored without its gateway run) taken over by recover, each device updated once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { DistributionRow } from '../../src/store/server.ts';
import { rig, sha } from '../support/campaign-rig.ts';
import { GW_ID } from '../support/gw-pair.ts';

const dm = (i: number) => `IMEI:${String(i).padStart(15, '0')}`;
const gid = encodeURIComponent(GW_ID);

/** the distribution once it is done (checked now and at each end) */
function ended(r: Awaited<ReturnType<typeof rig>>, id: string, ms = 30_000): Promise<DistributionRow> {
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

test('two starts of one name at once: one is taken, the other is a 409, and its device is left alone', async (t) => {
  const r = await rig(t, 2);
  const post = (device: string) =>
    r.call('POST', `/gateways/${gid}/distributions`, { image: 'fw2', object: 'fumo', devices: [device], name: 'twice' });
  const both = await Promise.all([post(dm(0)), post(dm(1))]);
  assert.deepEqual(both.map((x) => x.status).sort(), [202, 409], both.map((x) => x.text).join('\n'));
  const lost = both.find((x) => x.status === 409)!;
  assert.match(lost.json.error, /a distribution named "twice" exists/);
  const won = both.findIndex((x) => x.status === 202);
  await ended(r, 'twice');
  assert.deepEqual(
    (await r.srv.store.listDistributionDevices('twice')).map((d) => [d.deviceId, d.state]),
    [[dm(won), 'succeeded']],
  );
  assert.deepEqual(await r.srv.store.listDeviceDistributions(dm(1 - won)), [], 'the second start reached no device');
  assert.equal(r.devices[1 - won]!.fumo.installed, undefined);
});

test('a start cut before the gateway took it is started by recover; a fresh one is left to its starter', async (t) => {
  const r = await rig(t, 3);
  const image = await r.srv.server.gateways.imageOnGateway(GW_ID, 'fw2', 10_000);
  const long = Date.now() - 120_000;
  const row = (id: string, updatedAt: number, fanouts: DistributionRow['fanouts']): DistributionRow => ({
    id,
    gatewayId: GW_ID,
    image: 'fw2',
    ...image,
    object: 'fumo',
    state: 'running',
    fanouts,
    createdAt: updatedAt,
    updatedAt,
  });
  // killed right after storing it: no fanout recorded
  await r.srv.store.putDistribution(row('cut-early', long, []));
  await r.srv.store.putDistributionDevices([
    { distributionId: 'cut-early', deviceId: dm(0), object: 'fumo', state: 'queued', updatedAt: long },
  ]);
  // killed after recording its fanout and before the gateway had it
  await r.srv.store.putDistribution(
    row('cut-late', long, [{ name: 'cut-late.fumo', correlator: 'dist:cut-late:fumo', object: 'fumo', done: false }]),
  );
  await r.srv.store.putDistributionDevices([
    { distributionId: 'cut-late', deviceId: dm(1), object: 'fumo', state: 'sent', updatedAt: long },
  ]);
  // stored a moment ago: its start may still be under way in some instance
  await r.srv.store.putDistribution(row('fresh', Date.now(), []));
  await r.srv.store.putDistributionDevices([
    { distributionId: 'fresh', deviceId: dm(2), object: 'fumo', state: 'queued', updatedAt: Date.now() },
  ]);
  await r.srv.server.distributions.recover(60_000);
  await Promise.all([ended(r, 'cut-early'), ended(r, 'cut-late')]);
  for (const [id, device] of [
    ['cut-early', 0],
    ['cut-late', 1],
  ] as const) {
    assert.deepEqual(
      (await r.srv.store.listDistributionDevices(id)).map((d) => [d.deviceId, d.state, d.resultCode]),
      [[dm(device), 'succeeded', 200]],
    );
    assert.equal(r.devices[device]!.fumo.installed?.sha256, sha);
  }
  const fresh = await r.srv.store.getDistribution('fresh');
  assert.deepEqual([fresh?.state, fresh?.fanouts], ['running', []], 'a fresh one is not taken over');
  assert.equal(r.devices[2]!.fumo.installed, undefined);
  // a second round finds nothing more to do: the fanouts the gateway held are not started again
  await r.srv.server.distributions.recover(60_000);
  assert.deepEqual(
    (await r.srv.store.getDistribution('cut-late'))?.fanouts.map((f) => [f.name, f.done]),
    [['cut-late.fumo', true]],
  );
});

test('a gateway that does not answer is asked about a cut start once, not once a round', async (t) => {
  const r = await rig(t, 1);
  const image = await r.srv.server.gateways.imageOnGateway(GW_ID, 'fw2', 10_000);
  const long = Date.now() - 120_000;
  await r.srv.store.putDistribution({
    id: 'cut',
    gatewayId: GW_ID,
    image: 'fw2',
    ...image,
    object: 'fumo',
    state: 'running',
    fanouts: [{ name: 'cut.fumo', correlator: 'dist:cut:fumo', object: 'fumo', done: false }],
    createdAt: long,
    updatedAt: long,
  });
  await r.srv.store.putDistributionDevices([{ distributionId: 'cut', deviceId: dm(0), object: 'fumo', state: 'sent', updatedAt: long }]);
  await r.gw.close(); // gone: its Get stays queued
  const asked = async () =>
    (await r.srv.store.listOperations(GW_ID, { state: 'queued' })).filter((o) => o.target === './GwMO/Fanout/cut.fumo/Progress/Done')
      .length;
  for (let round = 0; round < 3; round++) await r.srv.server.distributions.recover(60_000, 50);
  assert.equal(await asked(), 1);
  assert.deepEqual(
    (await r.srv.store.getDistribution('cut'))?.fanouts.map((f) => f.name),
    ['cut.fumo'],
  );
});
