// HLF-002, B.4: a device moves from gateway A to gateway B; B (which enrolled with the server's
// enrolment credential) announces it; the server learns where it is and the job pending for it
// follows it to B.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { enrol } from '../../src/gateway/enrol.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

const device = (lanUrl: string): DmDevice => new DmDevice({
  deviceId: 'IMEI:777', serverUrl: lanUrl, serverId: 'gwmo-gateway', username: 'device', password: 'lan-pw', serverPassword: 'lan-srv-pw',
  auth: 'md5', encoding: 'xml', manufacturer: 'Acme', model: 'Roamer', language: 'en', firmware: '1', notifyHost: '127.0.0.1', notifyPort: 0, checkInSeconds: 0,
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
