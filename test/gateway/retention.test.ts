// The gateway's retention under the server's control: the server reads and sets it through
// ./GwMO/Config/Retention (GET/PUT /api/gateways/{id}/config), and the gateway deletes finished
// fanout jobs the server has had the result of, and nothing it has not.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import type { DmDevice } from '../../src/client/device.ts';
import { DELIVERED_KEY, jobStep } from '../../src/gateway/retention.ts';
import { Pruner } from '../../src/server/retention.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

let srv: Awaited<ReturnType<typeof startServer>>;
let gw: Awaited<ReturnType<typeof startGateway>>;
let devices: DmDevice[];

before(async () => {
  srv = await startServer();
  gw = await startGateway(srv.url);
  devices = await startDevices(gw.gateway.lanUrl, 2);
  // its first session tells the server it is a gateway and where its Package#0 goes: later calls wake it themselves
  await gw.gateway.checkIn();
});
after(async () => {
  for (const d of devices) await d.stop();
  await gw.close();
  await srv.close();
});

/** a server-side call: it queues DM operations on the gateway and wakes it with a Package#0 */
const viaSession = <T>(call: Promise<T>): Promise<T> => call;
const dev = (i: number): string => `IMEI:${String(i).padStart(15, '0')}`;

async function fanout(name: string): Promise<void> {
  const r = await viaSession(
    srv.server.gateways.startFanout(GW_ID, { name, devices: [dev(0), dev(1)], commands: [{ kind: 'Get', path: './DevInfo/Mod' }] }, 10_000),
  );
  assert.ok(r.done);
  await gw.gateway.runner.settled(name);
  await gw.gateway.idle(); // the completion and resultaggregation alerts went out
}

test('the server reads and sets the retention nodes; a bad value gets 400 and changes nothing', async () => {
  const before = await viaSession(srv.server.gateways.config(GW_ID, 10_000));
  assert.equal(before.value?.['Retention/JobSeconds'], 604_800);
  assert.equal(before.value?.['Retention/Jobs'], 1000);
  assert.equal(before.value?.['Retention/OperationsPerDevice'], 100);

  const set = await viaSession(srv.server.gateways.configure(GW_ID, { 'Retention/Jobs': '1', 'Retention/JobSeconds': '0' }, 10_000));
  assert.deepEqual(
    set.operations.map((o) => o.status),
    [200, 200],
  );
  const bad = await viaSession(
    srv.server.gateways.configure(GW_ID, { 'Retention/Jobs': '-1', 'Retention/IntervalSeconds': 'soon' }, 10_000),
  );
  assert.deepEqual(
    bad.operations.map((o) => o.status),
    [400, 400],
  );
  const after = await viaSession(srv.server.gateways.config(GW_ID, 10_000));
  assert.equal(after.value?.['Retention/Jobs'], 1);
  assert.equal(after.value?.['Retention/JobSeconds'], 0);
  assert.equal(after.value?.['Retention/IntervalSeconds'], 600);
});

test('finished jobs beyond Retention/Jobs are deleted with their results once the server had them; the metric counts them', async () => {
  for (const name of ['r1', 'r2', 'r3']) await fanout(name);
  assert.equal(gw.gstore.listResults('r1').length, 2);
  const removed = await gw.gateway.pruner.runOnce();
  assert.equal(removed['gatewayJobs'], 2);
  assert.deepEqual(gw.gstore.listJobNames(), ['r3']);
  assert.deepEqual(gw.gstore.listResults('r1'), [], 'the results went with the job');
  assert.equal(gw.gstore.listResults('r3').length, 2);
  const metric = await gw.gateway.metrics.registry.getSingleMetricAsString('gwmo_retention_pruned_total');
  assert.match(metric, /gwmo_retention_pruned_total\{kind="gatewayJobs",gateway="GW:0001"\} 2/);
});

test('by age: a finished job goes after Retention/JobSeconds, but never before the server had its result', async () => {
  await viaSession(srv.server.gateways.configure(GW_ID, { 'Retention/Jobs': '0', 'Retention/JobSeconds': '1' }, 10_000));
  await fanout('r4');
  const delivered = Number(gw.gstore.getConfig(DELIVERED_KEY));
  // a job that finished after the last session that delivered alerts: the server has not had it yet
  gw.gstore.putJob({ name: 'unread', targets: [], commandsXml: '', state: 30, createdAt: delivered, finishedAt: delivered + 1 });
  gw.gstore.putJob({ name: 'running', targets: [], commandsXml: '', state: 20, createdAt: 0 });
  const later = new Pruner({ steps: [jobStep(gw.gstore, gw.gateway.config)], intervalMs: 0, now: () => Date.now() + 10_000 });
  assert.deepEqual(await later.runOnce(), { gatewayJobs: 2 }, 'r3 and r4');
  assert.deepEqual(gw.gstore.listJobNames(), ['running', 'unread']);
});

test("the proxied devices' finished operations on the gateway's LAN side are kept to Retention/OperationsPerDevice", async () => {
  const before = (await gw.south.listOperations(dev(0))).filter((o) => o.state === 'done').length;
  assert.ok(before >= 3, `each fanout left a finished Get on the LAN side (${before})`);
  await viaSession(srv.server.gateways.configure(GW_ID, { 'Retention/OperationsPerDevice': '1' }, 10_000));
  const removed = await gw.gateway.pruner.runOnce();
  assert.equal(removed['operations'], 2 * (before - 1));
  for (const d of [dev(0), dev(1)]) assert.equal((await gw.south.listOperations(d)).length, 1);
});
