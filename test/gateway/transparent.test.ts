// Transparent mode: the server's Package#0 for a device behind the gateway goes through the
// gateway's EDTrigger MO; the device checks it and opens its own session with the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { encodeNotification } from '../../src/protocol/index.ts';
import { addAccount } from '../../src/tree/index.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

test('notify via the gateway: forwarded unchanged, the device opens its session with the server; replays and bad triggers refused', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const [device] = await startDevices(gw.gateway.lanUrl, 1);
  const id = 'IMEI:000000000000000';
  try {
    await gw.gateway.checkIn();
    // the device also holds its own account with the server (transparent mode)
    addAccount(device!.tree, {
      id: 'srv',
      serverId: 'srv',
      addr: srv.url,
      client: { type: 'DIGEST', name: 'td', secret: 'td-pw' },
      server: { type: 'DIGEST', name: 'srv', secret: 'srv-td-pw' },
    });
    await srv.server.service.addDevice({ deviceId: id, name: 'td', password: 'td-pw', serverName: 'srv', serverPassword: 'srv-td-pw' });
    const get = await srv.server.service.queue(id, { kind: 'Get', path: './DevInfo/Mod' });

    const api = srv.url.replace(/\/dm$/, '/api');
    const res = await fetch(`${api}/devices/${encodeURIComponent(id)}/notify`, {
      method: 'POST',
      body: JSON.stringify({ via: GW_ID }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 202, await res.text());
    const [done] = await srv.server.service.settle([get.id], 10_000);
    assert.deepEqual(
      [done!.state, done!.status, done!.results?.[0]?.data],
      ['done', 200, 'Meter'],
      'the device itself answered the server',
    );

    // the same bytes again, an unknown device, a notification for another server, garbage
    const replay = await srv.server.service.notification(id);
    const other = encodeNotification({ serverId: 'someone-else', sessionId: 9 }, { password: 'x', nonce: new Uint8Array(4) });
    const trigger = (name: string, deviceId: string, bytes: Uint8Array) => [
      { kind: 'Add' as const, path: `./GwMO/EDTrigger/${name}`, format: 'node' },
      { kind: 'Replace' as const, path: `./GwMO/EDTrigger/${name}/DeviceID`, value: deviceId },
      {
        kind: 'Replace' as const,
        path: `./GwMO/EDTrigger/${name}/Notification`,
        value: Buffer.from(bytes).toString('base64'),
        format: 'b64',
      },
      { kind: 'Exec' as const, path: `./GwMO/EDTrigger/${name}/Operations/Trigger` },
    ];
    const ops = await Promise.all(
      [
        ...trigger('a', id, replay.bytes),
        ...trigger('b', id, replay.bytes),
        ...trigger('c', 'IMEI:nobody', replay.bytes),
        ...trigger('d', id, other),
        ...trigger('e', id, Uint8Array.of(1, 2, 3)),
      ].map((o) => srv.server.service.queue(GW_ID, o)),
    );
    await gw.gateway.checkIn();
    const execs = (await Promise.all(ops.filter((o) => o.kind === 'Exec').map((o) => srv.server.service.operation(o.id)))).map(
      (o) => o.status,
    );
    assert.deepEqual(execs, [200, 409, 404, 403, 400]);
    const reason = await srv.server.service.queue(GW_ID, { kind: 'Get', path: './GwMO/EDTrigger/b/Reason' });
    await gw.gateway.checkIn();
    assert.match(String((await srv.server.service.operation(reason.id)).results?.[0]?.data), /replay/);
  } finally {
    await device!.stop();
    await gw.close();
    await srv.close();
  }
});

test("B.1 bypass: a device with a routable address is notified directly at the address the gateway's inventory shows", async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const device = new (await import('../../src/client/device.ts')).DmDevice({
    deviceId: 'IMEI:B1',
    serverUrl: gw.gateway.lanUrl,
    serverId: 'gwmo-gateway',
    username: 'device',
    password: 'lan-pw',
    serverPassword: 'lan-srv-pw',
    auth: 'md5',
    encoding: 'xml',
    manufacturer: 'Acme',
    model: 'Routable',
    language: 'en',
    firmware: '1',
    notifyHost: '127.0.0.1',
    notifyPort: 0,
    checkInSeconds: 0,
    routable: true,
    direct: { serverUrl: srv.url, serverId: 'srv', username: 'b1', password: 'b1-pw', serverPassword: 'srv-b1-pw' },
  });
  try {
    await device.start();
    await device.session();
    await gw.gateway.checkIn(); // the server learns it is a gateway
    await srv.server.service.addDevice({
      deviceId: 'IMEI:B1',
      name: 'b1',
      password: 'b1-pw',
      serverName: 'srv',
      serverPassword: 'srv-b1-pw',
    });
    const get = await srv.server.service.queue('IMEI:B1', { kind: 'Get', path: './DevInfo/Mod' });
    const sent = await srv.server.gateways.notifyBypass(GW_ID, 'IMEI:B1', 0, 10_000);
    assert.equal(sent.address, device.notifyAddress);
    const [done] = await srv.server.service.settle([get.id], 10_000);
    assert.deepEqual([done!.state, done!.results?.[0]?.data], ['done', 'Routable']);
    await assert.rejects(srv.server.gateways.notifyBypass(GW_ID, 'IMEI:nowhere', 0, 10_000), /no routable address/);
  } finally {
    await device.stop();
    await gw.close();
    await srv.close();
  }
});
