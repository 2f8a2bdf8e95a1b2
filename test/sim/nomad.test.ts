// The demo's nomadic device: it leaves one gateway's LAN for the other's and the server follows it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NomadicDevice } from '../../src/sim/nomad.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

test('a nomadic device moves between gateways, the server tracks where it is, and its tree travels with it', async () => {
  const srv = await startServer();
  await srv.server.service.addDevice({
    deviceId: 'GW:B',
    name: 'gw-b',
    password: 'gw-b-pw',
    serverName: 'srv',
    serverPassword: 'srv-pw',
    scheme: 'md5',
  });
  const attach = { 'InventoryAlerts/Attach': 'true' };
  const a = await startGateway(srv.url, { config: attach });
  const b = await startGateway(srv.url, {
    deviceId: 'GW:B',
    account: { name: 'gw-b', password: 'gw-b-pw', serverPassword: 'srv-pw' },
    config: attach,
  });
  const moves: number[] = [];
  const nomad = new NomadicDevice({
    base: {
      deviceId: 'IMEI:NOMAD',
      serverId: 'gwmo-gateway',
      username: 'device',
      password: 'lan-pw',
      serverPassword: 'lan-srv-pw',
      auth: 'md5',
      encoding: 'xml',
      manufacturer: 'Acme',
      model: 'Nomad',
      language: 'en',
      firmware: '1',
      notifyHost: '127.0.0.1',
      notifyPort: 0,
      checkInSeconds: 0,
    },
    lans: [a.gateway.lanUrl, b.gateway.lanUrl],
    everyMs: 3_600_000,
    onMove: (_to, i) => moves.push(i),
  });
  const api = srv.url.replace(/\/dm$/, '/api');
  const where = async () => (await (await fetch(`${api}/devices/IMEI%3ANOMAD/location`)).json()) as { gatewayId: string };
  try {
    const atA = srv.alertOf('deviceattached');
    await nomad.start();
    await atA;
    assert.equal((await where()).gatewayId, GW_ID);
    // something the server wrote into the device before it left
    const job = await srv.server.jobs.create('IMEI:NOMAD', [{ kind: 'Replace', path: './Vendor/gwmo/Note', value: 'written through A' }]);
    assert.equal((await srv.server.jobs.settle(job.id, 15_000)).status, 200);

    srv.alerts.length = 0;
    const atB = srv.alertOf('deviceattached');
    await nomad.move();
    await atB;
    assert.deepEqual(moves, [1]);
    assert.equal((await where()).gatewayId, 'GW:B');
    const read = await srv.server.jobs.create('IMEI:NOMAD', [{ kind: 'Get', path: './Vendor/gwmo/Note' }]);
    const after = await srv.server.jobs.settle(read.id, 15_000);
    assert.deepEqual(
      [after.gatewayId, after.results?.[0]?.data],
      ['GW:B', 'written through A'],
      'read through B: the value written through A',
    );
  } finally {
    await nomad.stop();
    await b.close();
    await a.close();
    await srv.close();
  }
});
