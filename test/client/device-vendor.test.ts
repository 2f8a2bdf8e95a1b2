// The simulated device's writable vendor nodes (./Vendor/gwmo): what the README's "Other operations"
// run against, over a real DM session with a server on loopback, and kept in the device's tree file.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { DmDevice, type DeviceConfig } from '../../src/client/device.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { SqliteTreeStore } from '../../src/store/sqlite/tree.ts';

const ID = 'IMEI:359881234567890';

test('Replace, Add, Copy, Delete and Exec on ./Vendor/gwmo succeed, and the values survive a device restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-vendor-'));
  const store = new SqliteServerStore(':memory:');
  const server = new DmServer({ store, serverId: 'gwmo' });
  const url = await server.start();
  const config: DeviceConfig = {
    deviceId: ID,
    serverUrl: url,
    serverId: 'gwmo',
    username: 'device',
    password: 'dev-secret',
    serverPassword: 'srv-secret',
    auth: 'md5',
    encoding: 'xml',
    manufacturer: 'gwmo',
    model: 'sim-1',
    language: 'en',
    firmware: '1.0',
    checkInSeconds: 0,
  };
  const open = () => {
    const trees = new SqliteTreeStore(join(dir, 'device.db'));
    return { trees, device: new DmDevice(config, trees) };
  };
  let run = open();
  try {
    const s = server.service;
    await s.addDevice({
      deviceId: ID,
      name: 'device',
      password: 'dev-secret',
      serverName: 'gwmo',
      serverPassword: 'srv-secret',
      scheme: 'md5',
    });
    assert.equal(run.device.tree.read('./Vendor/gwmo/Settings/Interval'), '60', 'seeded on first start');
    const ops = [
      await s.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'hi' }),
      await s.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Settings/Interval', value: '300', format: 'int' }),
      await s.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Settings/Enabled', value: 'false', format: 'bool' }),
      await s.queue(ID, { kind: 'Add', path: './Vendor/gwmo/Settings/Zone', format: 'node' }),
      await s.queue(ID, { kind: 'Add', path: './Vendor/gwmo/Settings/Zone/Name', value: 'hall' }),
      await s.queue(ID, { kind: 'Copy', path: './Vendor/gwmo/Settings/Label', source: './Vendor/gwmo/Note' }),
      await s.queue(ID, { kind: 'Delete', path: './Vendor/gwmo/Settings/Zone' }),
      await s.queue(ID, { kind: 'Exec', path: './Vendor/gwmo/Reboot' }),
      await s.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Settings/Interval', value: 'soon', format: 'int' }),
    ];
    const report = await run.device.session();
    // the Exec carries a correlator: accepted (202), its Generic Alert (final 200) goes in a session of its own
    const alerted = run.device.nextSession();
    assert.equal(report.end, 'done', report.error);
    assert.equal((await alerted).end, 'done');
    const out = await Promise.all(ops.map((o) => s.operation(o.id)));
    assert.deepEqual(
      out.map((o) => [o.kind, o.status]),
      [
        ['Replace', 200],
        ['Replace', 200],
        ['Replace', 200],
        ['Add', 200],
        ['Add', 200],
        ['Copy', 200],
        ['Delete', 200],
        ['Exec', 200],
        ['Replace', 400],
      ],
    );
    await run.device.stop();
    run.trees.close();

    run = open();
    const t = run.device.tree;
    assert.deepEqual(
      ['Note', 'Settings/Interval', 'Settings/Enabled', 'Settings/Label', 'Reboots'].map((p) => t.read(`./Vendor/gwmo/${p}`)),
      ['hi', '300', 'false', 'hi', '1'],
      'what the server wrote is in the tree file, not seeded again',
    );
    assert.equal(t.exists('./Vendor/gwmo/Settings/Zone'), false);
  } finally {
    await run.device.stop();
    run.trees.close();
    await server.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
