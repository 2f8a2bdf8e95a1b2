// POST /api/devices/{id}/notify with no `via`: a device the server knows is behind a gateway (its
// deviceattached alert) is notified through that gateway's EDTrigger, not at the address its HTTP
// came from (through a NAT, that is the gateway's, where nothing listens for its Package#0); a
// device with no path to it gets a 409 that says what is missing, and nothing is queued anywhere.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';

import { addAccount } from '../../src/tree/index.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

test('a device behind a gateway is notified through the gateway by default, even with a stale notify address', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const attached = srv.alertOf('deviceattached');
  const [device] = await startDevices(gw.gateway.lanUrl, 1);
  const id = 'IMEI:000000000000000';
  // the NAT's side: a UDP port that takes datagrams and does nothing with them
  const nat = createSocket('udp4');
  let landed = 0;
  nat.on('message', () => landed++);
  await new Promise<void>((resolve) => nat.bind(0, '127.0.0.1', resolve));
  try {
    await gw.gateway.checkIn();
    await attached;
    addAccount(device!.tree, {
      id: 'srv',
      serverId: 'srv',
      addr: srv.url,
      client: { type: 'DIGEST', name: 'td', secret: 'td-pw' },
      server: { type: 'DIGEST', name: 'srv', secret: 'srv-td-pw' },
    });
    await srv.server.service.addDevice({
      deviceId: id,
      name: 'td',
      password: 'td-pw',
      serverName: 'srv',
      serverPassword: 'srv-td-pw',
      notifyAddress: `127.0.0.1:${nat.address().port}`,
    });
    const get = await srv.server.service.queue(id, { kind: 'Get', path: './DevInfo/Mod' });
    const api = srv.url.replace(/\/dm$/, '/api');
    const res = await fetch(`${api}/devices/${encodeURIComponent(id)}/notify`, { method: 'POST' });
    const body = (await res.json()) as { via?: string };
    assert.equal(res.status, 202);
    assert.equal(body.via, GW_ID);
    const [done] = await srv.server.service.settle([get.id], 10_000);
    assert.deepEqual([done!.state, done!.results?.[0]?.data], ['done', 'Meter'], 'the device itself answered the server');
    assert.equal(landed, 0, 'nothing was sent to the stale address');
  } finally {
    nat.close();
    await device!.stop();
    await gw.close();
    await srv.close();
  }
});

test('a device with no notify address and behind no gateway gets a 409 naming what is missing, and nothing is queued', async () => {
  const srv = await startServer();
  try {
    await srv.server.service.addDevice({ deviceId: 'IMEI:LONE', name: 'l', password: 'l-pw', serverName: 'srv', serverPassword: 's-pw' });
    const api = srv.url.replace(/\/dm$/, '/api');
    const before = (await srv.store.listOperations('IMEI:LONE')).length;
    const res = await fetch(`${api}/devices/IMEI%3ALONE/notify`, { method: 'POST' });
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { error: string }).error, /no notifyAddress .*no gateway has announced it/);
    assert.equal((await srv.store.listOperations('IMEI:LONE')).length, before);
  } finally {
    await srv.close();
  }
});
