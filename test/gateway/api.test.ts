// The README's gateway story through the REST API: list gateways, read the inventory, make a
// group, run a fanout and read its aggregate.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

test('REST: gateways, inventory, groups, config, fanout with its aggregate', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const devices = await startDevices(gw.gateway.lanUrl, 6);
  try {
    await gw.gateway.checkIn(); // the gateway's DevInfo (and its Package#0 port) reach the server
    const api = srv.url.replace(/\/dm$/, '/api');
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(api + path, {
        method,
        ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    const gid = encodeURIComponent(GW_ID);
    assert.deepEqual(
      (await call('GET', '/gateways')).json.items.map((g: { deviceId: string }) => g.deviceId),
      [GW_ID],
    );
    const inv = await call('GET', `/gateways/${gid}/devices`);
    assert.equal(inv.status, 200, JSON.stringify(inv.json));
    assert.equal(inv.json.summary.Total, '6');
    assert.equal(inv.json.devices['IMEI:000000000000002'].Mod, 'Meter');
    const one = await call('GET', `/gateways/${gid}/devices/${encodeURIComponent('IMEI:000000000000001')}`);
    assert.equal(one.json.Status, '1');
    assert.equal(one.json.ServerSecret, 'Own', 'its server secret is its own (docs/auth.md)');
    assert.equal((await call('GET', `/gateways/${gid}/devices/${encodeURIComponent('IMEI:nope')}`)).status, 404);

    const ids = devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`);
    const put = await call('PUT', `/gateways/${gid}/groups/sensors`, { description: 'odd ones', members: [ids[1], ids[3], ids[5]] });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const groups = await call('GET', `/gateways/${gid}/groups`);
    assert.deepEqual(Object.values(groups.json.sensors.Members), [ids[1], ids[3], ids[5]]);
    assert.equal((await call('PUT', `/gateways/${gid}/config`, { 'Fanout/MaxConcurrency': 3 })).status, 200);
    assert.equal(gw.gateway.config.int('Fanout/MaxConcurrency'), 3);

    const done = srv.alertOf('resultaggregation');
    const started = await call('POST', `/gateways/${gid}/fanouts`, {
      name: 'fw',
      groups: ['sensors'],
      devices: [ids[0]],
      commands: [
        { kind: 'Replace', path: './DevInfo/Lang', value: 'fr' },
        { kind: 'Get', path: './DevDetail/FwV' },
      ],
    });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const alert = await done;
    assert.equal(alert.correlator, started.json.correlator);
    const job = await call('GET', `/gateways/${gid}/fanouts/fw`);
    assert.equal(job.json.State, '30');
    assert.deepEqual(job.json.Progress, { Total: '4', Done: '4', Succeeded: '0', Failed: '4', InDoubt: '0' });
    assert.deepEqual(job.json.Aggregate, { 405: '4' }, 'DevInfo is read-only on every device');
    const bad = await call('POST', `/gateways/${gid}/fanouts`, {
      name: 'bad',
      groups: ['nosuch'],
      commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
    });
    assert.equal(bad.status, 409);
    assert.match(bad.json.error, /404/);
    assert.equal((await call('POST', `/gateways/${gid}/fanouts`, { commands: [] })).status, 400);
  } finally {
    for (const d of devices) await d.stop();
    await gw.close();
    await srv.close();
  }
});
