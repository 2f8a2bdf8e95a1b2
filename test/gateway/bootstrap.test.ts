// HLF-005/006: the gateway writes a DM account into a device — for itself (proxy mode, per-device
// credentials replace the LAN enrolment secret) or for the DM server (transparent mode).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { readAccounts } from '../../src/tree/index.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

test('bootstrap to the server: the device then opens its own sessions with the server (transparent mode)', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const [device] = await startDevices(gw.gateway.lanUrl, 1);
  const id = 'IMEI:000000000000000';
  const base = `./GwMO/DevInventory/Devices/${id}/Bootstrap`;
  try {
    await srv.server.service.addDevice({
      deviceId: id,
      name: 'boot-td',
      password: 'boot-pw',
      serverName: 'srv',
      serverPassword: 'boot-srv-pw',
    });
    const alert = srv.alertOf('bootstrap');
    const ops = await Promise.all(
      [
        { kind: 'Replace' as const, path: `${base}/Target`, value: '2' },
        { kind: 'Replace' as const, path: `${base}/ServerID`, value: 'srv' },
        { kind: 'Replace' as const, path: `${base}/ServerURI`, value: srv.url },
        { kind: 'Replace' as const, path: `${base}/AuthName`, value: 'boot-td' },
        { kind: 'Replace' as const, path: `${base}/AuthSecret`, value: 'boot-pw' },
        { kind: 'Replace' as const, path: `${base}/ServerSecret`, value: 'boot-srv-pw' },
        { kind: 'Exec' as const, path: `${base}/Operations/Start` },
      ].map((o) => srv.server.service.queue(GW_ID, o)),
    );
    await gw.gateway.checkIn();
    assert.equal((await srv.server.service.operation(ops[6]!.id)).status, 202);
    const a = await alert;
    assert.deepEqual([a.items[0]!.data, a.correlator], ['200', (await srv.server.service.operation(ops[6]!.id)).correlator]);
    const acc = readAccounts(device!.tree).find((x) => x.serverId === 'srv')!;
    assert.deepEqual([acc.addr, acc.client.name, acc.client.secret, acc.server?.secret], [srv.url, 'boot-td', 'boot-pw', 'boot-srv-pw']);
    assert.equal(gw.gstore.getDevice(id)!.mode, 1, 'transparent mode now');
    // the server manages it directly, woken through the gateway
    const get = await srv.server.service.queue(id, { kind: 'Get', path: './DevInfo/Mod' });
    await srv.server.gateways.notifyVia(GW_ID, id, 0, 10_000);
    const [done] = await srv.server.service.settle([get.id], 10_000);
    assert.deepEqual([done!.state, done!.results?.[0]?.data], ['done', 'Meter']);
  } finally {
    await device!.stop();
    await gw.close();
    await srv.close();
  }
});

test('bootstrap to the gateway: per-device credentials replace the LAN secret; an incomplete bootstrap is 412', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const [device] = await startDevices(gw.gateway.lanUrl, 1);
  const id = 'IMEI:000000000000000';
  const base = `./GwMO/DevInventory/Devices/${id}/Bootstrap`;
  try {
    const early = await srv.server.service.queue(GW_ID, { kind: 'Exec', path: `${base}/Operations/Start` });
    const alert = srv.alertOf('bootstrap');
    for (const o of [
      { kind: 'Replace' as const, path: `${base}/Target`, value: '1' },
      { kind: 'Replace' as const, path: `${base}/ServerID`, value: 'gwmo-gateway' },
      { kind: 'Replace' as const, path: `${base}/ServerURI`, value: gw.gateway.lanUrl },
      { kind: 'Replace' as const, path: `${base}/AuthName`, value: 'meter-0' },
      { kind: 'Replace' as const, path: `${base}/AuthSecret`, value: 'per-device-secret' },
      { kind: 'Replace' as const, path: `${base}/ServerSecret`, value: 'lan-srv-pw' },
      { kind: 'Exec' as const, path: `${base}/Operations/Start` },
    ])
      await srv.server.service.queue(GW_ID, o);
    await gw.gateway.checkIn();
    assert.equal((await srv.server.service.operation(early.id)).status, 412);
    assert.equal((await alert).items[0]!.data, '200');
    // the device now authenticates as meter-0; the shared LAN secret no longer opens its account
    // the gateway, waking the device for a fanout, gets its commands carried out on the new account
    // (both sides start it on the resync nonce; the device checks the Package#0 with that account)
    const fanout = async (): Promise<void> => {
      const done = srv.alertOf('resultaggregation');
      await srv.server.gateways.startFanout(GW_ID, { devices: [id], commands: [{ kind: 'Get', path: './DevInfo/Mod' }] }, 10_000);
      assert.equal((await done).items[0]!.data, '<Aggregate total="1"><Status code="200" count="1"/></Aggregate>');
    };
    await fanout();
    const after = await device!.session();
    assert.equal(after.end, 'done', after.error);
    await fanout();
    const impostor = new DmDevice({
      deviceId: id,
      serverUrl: gw.gateway.lanUrl,
      serverId: 'gwmo-gateway',
      username: 'device',
      password: 'lan-pw',
      serverPassword: 'lan-srv-pw',
      auth: 'md5',
      encoding: 'xml',
      manufacturer: 'x',
      model: 'x',
      language: 'en',
      firmware: '1',
      checkInSeconds: 0,
    });
    assert.equal((await impostor.session()).end, 'auth-failed');
    await impostor.stop();
    // the bootstrap left two accounts for the gateway: its server secret was rotated in the newest one
    // (the last listed; the device uses that one), so Package#0 and sessions work on it
    const accounts = readAccounts(device!.tree).filter((a) => a.serverId === 'gwmo-gateway');
    assert.deepEqual(
      accounts.map((a) => a.id),
      ['gwmo', 'gateway'],
    );
    const own = gw.south.deviceNow(id)!;
    assert.notEqual(own.serverPassword, 'lan-srv-pw');
    assert.equal(own.serverPasswordNext, undefined);
    assert.equal(accounts[1]!.server!.secret, own.serverPassword);
    await fanout();
  } finally {
    await device!.stop();
    await gw.close();
    await srv.close();
  }
});
