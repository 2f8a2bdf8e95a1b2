// HLF-003 / B.6: the server announces a new device with its own credentials; when it appears on
// the LAN (its first DM session to the gateway's well-known LAN URL) the gateway authenticates it,
// registers it, alerts the server, and the server manages it at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

test('a device announced by the server joins with its own credentials; wrong ones are refused', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const devices: DmDevice[] = [];
  const device = (password: string): DmDevice => {
    const d = new DmDevice({
      deviceId: 'IMEI:990000000000001',
      serverUrl: gw.gateway.lanUrl,
      serverId: 'gwmo-gateway',
      username: 'meter-1',
      password,
      serverPassword: 'lan-srv-pw',
      auth: 'md5',
      encoding: 'xml',
      manufacturer: 'Acme',
      model: 'New-1',
      language: 'en',
      firmware: '1',
      notifyHost: '127.0.0.1',
      notifyPort: 0,
      checkInSeconds: 0,
    });
    devices.push(d);
    return d;
  };
  try {
    const base = './GwMO/DevInventory/Devices/IMEI:990000000000001';
    const ops = await Promise.all(
      [
        { kind: 'Replace' as const, path: './GwMO/Config/InventoryAlerts/Attach', value: 'true' },
        { kind: 'Add' as const, path: base, format: 'node' },
        { kind: 'Add' as const, path: `${base}/Credentials/AuthName`, value: 'meter-1' },
        { kind: 'Add' as const, path: `${base}/Credentials/AuthSecret`, value: 'its-own-secret' },
        { kind: 'Get' as const, path: `${base}/Status` },
      ].map((o) => srv.server.service.queue(GW_ID, o)),
    );
    await gw.gateway.checkIn();
    assert.deepEqual(
      (await Promise.all(ops.map((o) => srv.server.service.operation(o.id)))).map((o) => o.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal((await srv.server.service.operation(ops[4]!.id)).results?.[0]?.data, '0', 'announced, not seen yet');

    // the LAN enrolment secret does not open an announced device's account
    const impostor = device('lan-pw');
    assert.equal((await impostor.session()).end, 'auth-failed');
    const attached = srv.alertOf('deviceattached');
    const real = device('its-own-secret');
    await real.start();
    assert.equal((await real.session()).end, 'done');
    const alert = await attached;
    assert.match(String(alert.items[0]!.data), /DeviceID="IMEI:990000000000001"/);
    const row = gw.gstore.getDevice('IMEI:990000000000001')!;
    assert.deepEqual([row.attached, row.mode, row.info['Mod']], [true, 2, 'New-1']);
    // and the server manages it at once
    const done = srv.alertOf('resultaggregation');
    await srv.server.gateways.startFanout(
      GW_ID,
      { devices: ['IMEI:990000000000001'], commands: [{ kind: 'Get', path: './DevInfo/Mod' }] },
      10_000,
    );
    assert.equal((await done).items[0]!.data, '<Aggregate total="1"><Status code="200" count="1"/></Aggregate>');
  } finally {
    for (const d of devices) await d.stop();
    await gw.close();
    await srv.close();
  }
});
