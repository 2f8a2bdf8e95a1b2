// HLF-002, B.4: a device moves from gateway A to gateway B; B (which enrolled with the server's
// enrolment credential) announces it; the server learns where it is and the job pending for it
// follows it to B.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { enrol } from '../../src/gateway/enrol.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

const device = (lanUrl: string): DmDevice =>
  new DmDevice({
    deviceId: 'IMEI:777',
    serverUrl: lanUrl,
    serverId: 'gwmo-gateway',
    username: 'device',
    password: 'lan-pw',
    serverPassword: 'lan-srv-pw',
    auth: 'md5',
    encoding: 'xml',
    manufacturer: 'Acme',
    model: 'Roamer',
    language: 'en',
    firmware: '1',
    notifyHost: '127.0.0.1',
    notifyPort: 0,
    checkInSeconds: 0,
  });

test('enrolment: a valid credential gets an account once, a wrong one is refused', async () => {
  const srv = await startServer({ enrolmentSecret: 'enrol-me' });
  try {
    await assert.rejects(enrol(srv.url, 'GW:X', 'guess'), /403/);
    const acc = await enrol(srv.url, 'GW:X', 'enrol-me');
    assert.ok(acc.password.length >= 20);
    await assert.rejects(enrol(srv.url, 'GW:X', 'enrol-me'), /409/);
    assert.equal((await srv.server.service.device('GW:X')).clientName, acc.name);
  } finally {
    await srv.close();
  }
});

test('a device moving from gateway A to gateway B takes its pending job with it', async () => {
  const srv = await startServer({ enrolmentSecret: 'enrol-me' });
  const attach = { 'InventoryAlerts/Attach': 'true' };
  // A never finishes the job without the device: a long device timeout keeps it waiting
  const a = await startGateway(srv.url, { config: { ...attach, 'Fanout/DeviceTimeout': '120' } });
  const b = await startGateway(srv.url, { deviceId: 'GW:B', account: await enrol(srv.url, 'GW:B', 'enrol-me'), config: attach });
  const devices: DmDevice[] = [];
  try {
    const atA = srv.alertOf('deviceattached');
    const first = device(a.gateway.lanUrl);
    devices.push(first);
    await first.start();
    await first.session();
    await atA;
    await a.gateway.idle();
    assert.equal((await srv.store.getLocation('IMEI:777'))?.gatewayId, GW_ID);
    await first.stop(); // it leaves A's LAN

    const job = await srv.server.jobs.create('IMEI:777', [{ kind: 'Get', path: './DevInfo/Mod' }]);
    assert.deepEqual([job.state, job.gatewayId], ['dispatched', GW_ID]);

    // …and turns up behind B
    srv.alerts.length = 0;
    const done = srv.alertOf('resultaggregation', 20_000);
    const moved = device(b.gateway.lanUrl);
    devices.push(moved);
    await moved.start();
    await moved.session();
    await done;
    await b.gateway.idle();
    const after = await srv.server.jobs.settle(job.id, 20_000);
    assert.deepEqual([after.state, after.status, after.gatewayId], ['done', 200, 'GW:B']);
    assert.equal((await srv.store.getLocation('IMEI:777'))?.gatewayId, 'GW:B');
  } finally {
    for (const d of devices) await d.stop();
    await a.close();
    await b.close();
    await srv.close();
  }
});

test('when a device turns up behind gateway B, the server tells gateway A, which lists it detached at once (only one gateway shows it attached)', async () => {
  const srv = await startServer({ enrolmentSecret: 'enrol-me' });
  // A's DetachTimeout is an hour: without the server's word, A would show the device attached all that time
  const a = await startGateway(srv.url, {
    config: { 'InventoryAlerts/Attach': 'true', 'InventoryAlerts/Detach': 'true', DetachTimeout: '3600' },
  });
  const b = await startGateway(srv.url, {
    deviceId: 'GW:B',
    account: await enrol(srv.url, 'GW:B', 'enrol-me'),
    config: { 'InventoryAlerts/Attach': 'true' },
  });
  const devices: DmDevice[] = [];
  try {
    const atA = srv.alertOf('deviceattached');
    devices.push(device(a.gateway.lanUrl));
    await devices[0]!.start();
    await devices[0]!.session();
    await atA;
    await a.gateway.idle();
    assert.equal(a.gstore.getDevice('IMEI:777')?.attached, true);
    srv.alerts.length = 0;
    const leftA = srv.alertOf('devicedetached', 20_000);
    devices.push(device(b.gateway.lanUrl));
    await devices[1]!.start();
    await devices[1]!.session();
    await leftA;
    assert.deepEqual([a.gstore.getDevice('IMEI:777')?.attached, b.gstore.getDevice('IMEI:777')?.attached], [false, true]);
    assert.equal(srv.alerts.find((x) => x.alert.items[0]?.type?.includes('devicedetached'))?.deviceId, GW_ID);
    const summary = (await srv.server.gateways.inventory(GW_ID, 10_000)).value?.summary;
    assert.equal(summary?.['Attached'], '0', "A's own inventory summary says so too");
  } finally {
    for (const d of devices) await d.stop();
    await a.close();
    await b.close();
    await srv.close();
  }
});

test('a gateway refuses to have a device marked attached by a Replace of its Status: only 0 (detached) may be written', async () => {
  const srv = await startServer();
  const a = await startGateway(srv.url, { config: { 'InventoryAlerts/Attach': 'true' } });
  const first = device(a.gateway.lanUrl);
  try {
    const atA = srv.alertOf('deviceattached');
    await first.start();
    await first.session();
    await atA;
    await a.gateway.idle();
    const r = await srv.server.gateways.run(
      GW_ID,
      [{ kind: 'Replace', path: './GwMO/DevInventory/Devices/IMEI:777/Status', value: '2', format: 'int' }],
      10_000,
    );
    assert.equal(r.operations[0]?.status, 400);
    assert.equal(a.gstore.getDevice('IMEI:777')?.attached, true);
  } finally {
    await first.stop();
    await a.close();
    await srv.close();
  }
});
