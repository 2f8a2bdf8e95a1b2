// The behaviours of deployed DM clients (docs/interop.md, "Lenient reading"), one test each: a
// simulated device with the quirk holds real sessions over HTTP with `DmServer`, and with the
// gateway's LAN side (the same DmServer, behind `DmGateway`); every queued operation ends with the
// status and results the device gave, and none is left `sent`.
// Actors: `server` (DmServer on loopback), `device` (DmDevice with quirks), `lan` (the gateway's
// LAN DmServer, reached by a device enrolled behind the gateway).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice, type DeviceConfig } from '../../src/client/device.ts';
import type { ClientQuirk } from '../../src/client/quirks.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import type { ServerService } from '../../src/server/service.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { startGateway, startServer, lanDevice } from '../support/gw-pair.ts';

const ID = 'IMEI:359881234567890';
type Log = { event: string; fields: Record<string, unknown> }[];

async function direct(t: { after(fn: () => unknown): void }, quirks: readonly ClientQuirk[], encoding: 'xml' | 'wbxml' = 'xml') {
  const store = new SqliteServerStore(':memory:');
  const log: Log = [];
  const server = new DmServer({ store, serverId: 'gwmo', log: (event, fields) => log.push({ event, fields }) });
  const url = await server.start();
  t.after(async () => {
    await server.stop();
    await store.close();
  });
  await server.service.addDevice({
    deviceId: ID,
    name: 'device',
    password: 'dev-secret',
    serverName: 'gwmo',
    serverPassword: 'srv-secret',
    scheme: 'md5',
  });
  const config: DeviceConfig = {
    deviceId: ID,
    serverUrl: url,
    serverId: 'gwmo',
    username: 'device',
    password: 'dev-secret',
    serverPassword: 'srv-secret',
    auth: 'md5',
    encoding,
    manufacturer: 'gwmo',
    model: 'sim-1',
    language: 'en',
    firmware: '1.0',
    checkInSeconds: 0,
    wireQuirks: quirks,
  };
  const device = new DmDevice(config);
  t.after(() => device.stop());
  return { server, store, device, service: server.service, log };
}

/** A quirky device behind a gateway: enrolled by a first session, then managed by the LAN side. */
async function behindGateway(t: { after(fn: () => unknown): void }, quirks: readonly ClientQuirk[]) {
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url);
  t.after(() => gw.close());
  const device = new DmDevice(lanDevice(gw.gateway.lanUrl, ID, { wireQuirks: quirks }));
  t.after(() => device.stop());
  const first = await device.session();
  assert.equal(first.end, 'done', first.error);
  return { device, service: gw.gateway.lan.service, store: gw.south };
}

/** Runs one device session and gives the operations as they ended. */
async function run(device: DmDevice, service: ServerService, ops: readonly { id: string }[]) {
  const report = await device.session();
  assert.equal(report.end, 'done', report.error);
  return Promise.all(ops.map((o) => service.operation(o.id)));
}

test('Meta with Type before Format: Results keep their Format and Type', async (t) => {
  const { device, service } = await direct(t, ['meta-type-first']);
  const op = await service.queue(ID, { kind: 'Get', path: './DevInfo' });
  const [done] = await run(device, service, [op]);
  assert.equal(done!.status, 200);
  assert.deepStrictEqual(
    { ...done!.results![0], data: undefined },
    { uri: './DevInfo', format: 'node', type: 'urn:oma:mo:oma-dm-devinfo:1.0', data: undefined },
  );
});

for (const where of ['server', 'gateway'] as const) {
  test(`Status without CmdRef (${where}): each Status is matched by Cmd and target, in order, and nothing stays sent`, async (t) => {
    const { device, service } = where === 'server' ? await direct(t, ['status-no-cmdref']) : await behindGateway(t, ['status-no-cmdref']);
    const ops = [
      await service.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'hi' }),
      await service.queue(ID, { kind: 'Get', path: './Vendor/gwmo/Note' }),
      await service.queue(ID, { kind: 'Get', path: './DevInfo/Nope' }),
      await service.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Settings/Interval', value: 'soon', format: 'int' }),
      await service.queue(ID, { kind: 'Get', path: './Vendor/gwmo/Settings/Label' }),
    ];
    const out = await run(device, service, ops);
    assert.deepStrictEqual(
      out.map((o) => [o.kind, o.target, o.state, o.status]),
      [
        ['Replace', './Vendor/gwmo/Note', 'done', 200],
        ['Get', './Vendor/gwmo/Note', 'done', 200],
        ['Get', './DevInfo/Nope', 'failed', 404],
        ['Replace', './Vendor/gwmo/Settings/Interval', 'failed', 400],
        ['Get', './Vendor/gwmo/Settings/Label', 'done', 200],
      ],
    );
    assert.equal(out[1]!.results?.[0]?.data, 'hi');
    assert.equal(out[4]!.results?.[0]?.data, 'sim');
  });
}

test('Status without CmdRef in WBXML: the same, and the lenient reading is logged for the device', async (t) => {
  const { device, service, log } = await direct(t, ['status-no-cmdref'], 'wbxml');
  const ops = [
    await service.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'w' }),
    await service.queue(ID, { kind: 'Get', path: './DevInfo/Mod' }),
  ];
  const out = await run(device, service, ops);
  assert.deepStrictEqual(
    out.map((o) => [o.state, o.status]),
    [
      ['done', 200],
      ['done', 200],
    ],
  );
  assert.equal(device.tree.read('./Vendor/gwmo/Note'), 'w');
  const lenient = log.filter((l) => l.event === 'dm.lenient');
  assert.ok(lenient.length > 0 && lenient.every((l) => l.fields['deviceId'] === ID));
  assert.ok(lenient.some((l) => JSON.stringify(l.fields['warnings']).includes('DM_STATUS_NO_CMDREF')));
});

test('TargetRef and Source after Data: Results are filed under the right node', async (t) => {
  const { device, service } = await direct(t, ['targetref-after-data']);
  const ops = [
    await service.queue(ID, { kind: 'Get', path: './DevInfo/Mod' }),
    await service.queue(ID, { kind: 'Get', path: './Vendor/gwmo/Settings/Label' }),
  ];
  const out = await run(device, service, ops);
  assert.deepStrictEqual(
    out.map((o) => [o.status, o.results?.map((r) => [r.uri, r.data])]),
    [
      [200, [['./DevInfo/Mod', 'sim-1']]],
      [200, [['./Vendor/gwmo/Settings/Label', 'sim']]],
    ],
  );
});

for (const where of ['server', 'gateway'] as const) {
  test(`duplicate CmdIDs in the device's replies (${where}): Status and Results still reach their operations`, async (t) => {
    const { device, service } = where === 'server' ? await direct(t, ['duplicate-cmdids']) : await behindGateway(t, ['duplicate-cmdids']);
    const ops = [
      await service.queue(ID, { kind: 'Get', path: './DevInfo/Lang' }),
      await service.queue(ID, { kind: 'Get', path: './DevInfo/Nope' }),
      await service.queue(ID, { kind: 'Get', path: './DevInfo/DmV' }),
    ];
    const out = await run(device, service, ops);
    assert.deepStrictEqual(
      out.map((o) => [o.status, o.results?.map((r) => [r.uri, r.data])]),
      [
        [200, [['./DevInfo/Lang', 'en']]],
        [404, undefined],
        [200, [['./DevInfo/DmV', '1.2']]],
      ],
    );
  });
}

for (const where of ['server', 'gateway'] as const) {
  test(`Format in another case (${where}): results are filed with the Format in lower case`, async (t) => {
    const { device, service } = where === 'server' ? await direct(t, ['format-case']) : await behindGateway(t, ['format-case']);
    const ops = [
      await service.queue(ID, { kind: 'Get', path: './Vendor/gwmo/Settings/Interval' }),
      await service.queue(ID, { kind: 'Get', path: './DevInfo/Mod' }),
    ];
    const out = await run(device, service, ops);
    assert.deepStrictEqual(
      out.map((o) => o.results?.map((r) => [r.format, r.data])),
      [[['int', '60']], [['chr', where === 'server' ? 'sim-1' : 'Meter']]],
    );
  });
}

test('a MIME type in Format: results are chr data with that Type', async (t) => {
  const { device, service } = await direct(t, ['format-mime']);
  const [done] = await run(device, service, [await service.queue(ID, { kind: 'Get', path: './Vendor/gwmo/Settings/Label' })]);
  assert.equal(done!.status, 200);
  assert.deepStrictEqual(done!.results, [{ uri: './Vendor/gwmo/Settings/Label', format: 'chr', type: 'text/plain', data: 'sim' }]);
});

test('generic SyncML content types and no DOCTYPE: the session runs as with the DM types', async (t) => {
  for (const encoding of ['xml', 'wbxml'] as const) {
    const { device, service } = await direct(t, ['generic-content-type'], encoding);
    const [done] = await run(device, service, [await service.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Note', value: encoding })]);
    assert.deepStrictEqual([done!.state, done!.status], ['done', 200]);
    assert.equal(device.tree.read('./Vendor/gwmo/Note'), encoding);
  }
});

for (const where of ['server', 'gateway'] as const) {
  test(`a Generic Alert in the message with the Exec's Status (${where}): the Exec ends with the alert's result, in one session`, async (t) => {
    const { device, service, store } =
      where === 'server' ? await direct(t, ['alert-with-status']) : await behindGateway(t, ['alert-with-status']);
    const exec = await service.queue(ID, { kind: 'Exec', path: './Vendor/gwmo/Reboot' });
    assert.ok(exec.correlator);
    const [done] = await run(device, service, [exec]);
    assert.deepStrictEqual([done!.state, done!.status], ['done', 200]);
    const alerts = await store.listAlerts(ID);
    assert.equal(alerts.filter((a) => a.correlator === exec.correlator).length, 1);
  });
}

test("Alert 1201 re-sent to the last session's RespURI: a new session starts and runs what is queued", async (t) => {
  const { device, service, log } = await direct(t, ['resend-to-respuri']);
  const first = await run(device, service, [await service.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'one' })]);
  assert.equal(first[0]!.status, 200);
  // at once: the server still holds the ended session under that RespURI
  const second = await run(device, service, [await service.queue(ID, { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'two' })]);
  assert.deepStrictEqual([second[0]!.state, second[0]!.status], ['done', 200]);
  assert.equal(device.tree.read('./Vendor/gwmo/Note'), 'two');
  assert.deepStrictEqual(
    log.filter((l) => l.event === 'dm.refused'),
    [],
  );
});
