// A server managing devices through a gateway: inventory, groups, config, alerts, fanout with
// aggregation, all through the GwMO objects over DM (the server queues operations on the gateway).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { encodeFragment } from '../../src/protocol/index.ts';
import type { DmDevice } from '../../src/client/device.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

let srv: Awaited<ReturnType<typeof startServer>>;
let gw: Awaited<ReturnType<typeof startGateway>>;
let devices: DmDevice[];
const N = 50;

before(async () => {
  srv = await startServer();
  gw = await startGateway(srv.url);
  devices = await startDevices(gw.gateway.lanUrl, N);
});
after(async () => {
  for (const d of devices) await d.stop();
  await gw.close();
  await srv.close();
});

/** Queues the operations on the gateway, runs one gateway session, returns them done. */
async function onGateway(ops: Parameters<typeof srv.server.service.queue>[1][]) {
  const queued = await Promise.all(ops.map((o) => srv.server.service.queue(GW_ID, o)));
  await gw.gateway.checkIn();
  return Promise.all(queued.map((q) => srv.server.service.operation(q.id)));
}

function eventFor(emitter: NodeJS.EventEmitter, name: string, match: (...args: any[]) => boolean, timeoutMs = 10_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`no ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (...args: unknown[]): void => {
      if (!match(...args)) return;
      clearTimeout(t);
      emitter.off(name, on);
      resolve(args);
    };
    emitter.on(name, on);
  });
}

const dev = (i: number): string => `IMEI:${String(i).padStart(15, '0')}`;

test('inventory: every device registered, one Get for the summary, one for a device', async () => {
  const [summary, one] = await onGateway([
    { kind: 'Get', path: './GwMO/DevInventory/Summary?list=StructData' },
    { kind: 'Get', path: `./GwMO/DevInventory/Devices/${dev(3)}?list=StructData` },
  ]);
  const values = (op: typeof summary) => Object.fromEntries(op!.results!.map((r) => [r.uri.split('/').slice(-1)[0], r.data]));
  assert.equal(summary!.status, 200);
  assert.equal(values(summary).Total, String(N));
  assert.equal(values(summary).Attached, String(N));
  assert.equal(values(summary).Proxy, String(N));
  const d = values(one);
  assert.deepEqual([d.DeviceID, d.Man, d.Mod, d.Protocol, d.Mode, d.Status], [dev(3), 'Acme', 'Sensor', 'OMA-DM/1.2', '2', '1']);
  // the gateway tells the server it is a gateway and which MOs it has
  assert.equal((await srv.server.service.device(GW_ID)).devInfo['Ext/GwMO'], '1.0');
  const [type] = await onGateway([{ kind: 'Get', path: './GwMO/Fanout?prop=Type' }]);
  assert.equal(type!.results![0]!.data, 'urn:oma:mo:oma-gwmo-fanout:1.0');
});

test('config and groups are managed from the server; bad values get a DM status', async () => {
  const ops = await onGateway([
    { kind: 'Replace', path: './GwMO/Config/Fanout/MaxConcurrency', value: '8' },
    { kind: 'Replace', path: './GwMO/Config/DetachTimeout', value: 'soon' },
    { kind: 'Replace', path: './GwMO/Config/ServerAccount', value: 'other' },
    { kind: 'Add', path: './GwMO/DevInventory/Groups/meters', format: 'node' },
    { kind: 'Add', path: './GwMO/DevInventory/Groups/meters/Members/a', value: dev(0) },
    { kind: 'Add', path: './GwMO/DevInventory/Groups/meters/Members/b', value: dev(2) },
    { kind: 'Replace', path: './GwMO/DevInventory/Groups/meters/Description', value: 'even ones' },
    { kind: 'Add', path: './GwMO/DevInventory/Groups/meters', format: 'node' },
    { kind: 'Add', path: './GwMO/DevInventory/Groups/tmp', format: 'node' },
    { kind: 'Replace', path: './GwMO/DevInventory/Groups/tmp?prop=Name', value: 'renamed' },
    { kind: 'Delete', path: './GwMO/DevInventory/Groups/renamed' },
    { kind: 'Delete', path: './GwMO/DevInventory/Groups/nope' },
    { kind: 'Get', path: `./GwMO/DevInventory/Devices/${dev(2)}/Groups` },
    { kind: 'Replace', path: './GwMO/DevInventory/Groups/meters/Mode', value: '1' },
    { kind: 'Get', path: `./GwMO/DevInventory/Devices/${dev(2)}/Mode` },
    { kind: 'Replace', path: './GwMO/DevInventory/Groups/meters/Mode', value: '9' },
    { kind: 'Replace', path: `./GwMO/DevInventory/Devices/${dev(2)}/Mode`, value: '2' },
  ]);
  assert.deepEqual(
    ops.map((o) => o!.status),
    [200, 400, 405, 200, 200, 200, 200, 418, 200, 200, 200, 404, 200, 200, 200, 400, 200],
  );
  assert.equal(ops[14]!.results![0]!.data, '1', "the group's mode policy reached its members");
  assert.equal(gw.gstore.getDevice(dev(0))?.mode, 1);
  assert.equal(gw.gstore.getDevice(dev(2))?.mode, 2, 'a device can still be set on its own');
  assert.equal(gw.gateway.config.int('Fanout/MaxConcurrency'), 8);
  assert.deepEqual(
    gw.gstore.listGroups().map((g) => [g.name, g.description, g.members.map((m) => m.deviceId)]),
    [['meters', 'even ones', [dev(0), dev(2)]]],
  );
  assert.equal(ops[12]!.results![0]!.data, 'meters');
});

test('new-device alerts by default, none once the server switched them off; a silent device turns detached and back', async () => {
  const attached = (): string[] =>
    srv.alerts.flatMap((a) => a.alert.items.filter((i) => i.type?.includes('deviceattached')).map((i) => String(i.source)));
  await gw.gateway.idle();
  assert.ok(attached().includes(`./GwMO/DevInventory/Devices/${dev(0)}`), 'on by default: the server learns where each device is');
  await onGateway([{ kind: 'Replace', path: './GwMO/Config/InventoryAlerts/Attach', value: 'false' }]);
  const before = attached().length;
  const [off] = await startDevices(gw.gateway.lanUrl, 1, 900);
  await gw.gateway.idle();
  assert.equal(attached().length, before, 'switched off: no alert for a new device');
  await onGateway([{ kind: 'Replace', path: './GwMO/Config/InventoryAlerts/Attach', value: 'true' }]);
  srv.alerts.length = 0;
  const alert = srv.alertOf('deviceattached');
  const [on] = await startDevices(gw.gateway.lanUrl, 1, 901);
  const a = await alert;
  assert.equal(a.items[0]!.source, `./GwMO/DevInventory/Devices/${dev(901)}`);
  assert.match(String(a.items[0]!.data), new RegExp(`DeviceID="${dev(901)}"`));
  assert.equal(a.items[0]!.format, 'xml');

  await onGateway([{ kind: 'Replace', path: './GwMO/Config/DetachTimeout', value: '1' }]);
  const detached = eventFor(gw.gateway.events, 'detached', (id) => id === dev(901));
  await on!.stop();
  await detached;
  assert.equal(gw.gstore.getDevice(dev(901))?.attached, false);
  const [status] = await onGateway([{ kind: 'Get', path: `./GwMO/DevInventory/Devices/${dev(901)}/Status` }]);
  assert.equal(status!.results![0]!.data, '0');
  const back = eventFor(gw.gateway.events, 'attached', (id) => id === dev(901));
  await on!.session();
  await back;
  assert.equal(gw.gstore.getDevice(dev(901))?.attached, true);
  await off!.stop();
  await onGateway([
    { kind: 'Replace', path: './GwMO/Config/DetachTimeout', value: '3600' },
    { kind: 'Replace', path: './GwMO/Config/InventoryAlerts/Attach', value: 'false' },
  ]);
  // the others were silent too: they check in again
  for (let i = 0; i < devices.length; i += 25) await Promise.all(devices.slice(i, i + 25).map((d) => d.session()));
  assert.equal(gw.gateway.inventory.summary().attached, N + 1);
});

test('fanout of Add+Get to a group with mixed outcomes, aggregated in one alert', async () => {
  // devices 10–19 answer; 20–21 deny the gateway Replace (ACL); 22–23 never answer; 900 is detached
  for (const i of [20, 21]) devices[i]!.tree.define('./Vendor', { format: 'node', acl: 'Get=*' });
  for (const i of [22, 23]) await devices[i]!.stop();
  const members = [...Array.from({ length: 14 }, (_, k) => dev(10 + k)), dev(900)];
  const commands = encodeFragment([
    { kind: 'Add', cmdId: 1, items: [{ target: { locUri: './Vendor/Note' }, data: 'fanout was here' }] },
    { kind: 'Get', cmdId: 2, items: [{ target: { locUri: './DevInfo/Mod' } }] },
  ]);
  const setup = await onGateway([
    { kind: 'Add', path: './GwMO/DevInventory/Groups/mixed', format: 'node' },
    ...members.map((m, k) => ({ kind: 'Add' as const, path: `./GwMO/DevInventory/Groups/mixed/Members/m${k}`, value: m })),
    { kind: 'Add', path: './GwMO/Fanout/job1', format: 'node' },
    { kind: 'Add', path: './GwMO/Fanout/job1/Targets/1', value: './GwMO/DevInventory/Groups/mixed' },
    { kind: 'Add', path: './GwMO/Fanout/job1/Commands', value: commands, format: 'xml' },
    { kind: 'Add', path: './GwMO/Fanout/job1/Options/Timeout', value: '1', format: 'int' },
    { kind: 'Add', path: './GwMO/Fanout/job1/Options/Retries', value: '0', format: 'int' },
  ]);
  assert.ok(
    setup.every((o) => o!.status === 200),
    JSON.stringify(setup.map((o) => [o!.target, o!.status])),
  );
  const aggregated = srv.alertOf('resultaggregation');
  const [start] = await onGateway([{ kind: 'Exec', path: './GwMO/Fanout/job1/Operations/Start' }]);
  assert.equal(start!.status, 202);
  const alert = await aggregated;
  assert.equal(alert.correlator, start!.correlator, "the alert carries the Exec's correlator");
  assert.equal(alert.items[0]!.source, './GwMO/Fanout/job1');
  assert.equal(
    alert.items[0]!.data,
    `<Aggregate total="15"><Status code="200" count="10"/><Status code="408" count="2"><Device>${dev(22)}</Device><Device>${dev(23)}</Device></Status>` +
      `<Status code="410" count="1"><Device>${dev(900)}</Device></Status>` +
      `<Status code="425" count="2"><Device>${dev(20)}</Device><Device>${dev(21)}</Device></Status></Aggregate>`,
  );
  const completion = await srv.alertOf('completionstatus');
  assert.deepEqual([completion.items[0]!.data, completion.items[0]!.mark], ['30', 'warning']);
  assert.equal(devices[10]!.tree.read('./Vendor/Note'), 'fanout was here');
  assert.equal(devices[20]!.tree.exists('./Vendor/Note'), false);

  const [progress, agg, results] = await onGateway([
    { kind: 'Get', path: './GwMO/Fanout/job1/Progress?list=StructData' },
    { kind: 'Get', path: './GwMO/Fanout/job1/Aggregate?list=StructData' },
    { kind: 'Get', path: './GwMO/Fanout/job1/Results?list=StructData' },
  ]);
  const leaves = (op: typeof progress) =>
    Object.fromEntries(op!.results!.filter((r) => r.format !== 'node').map((r) => [r.uri.replace('./GwMO/Fanout/job1/', ''), r.data]));
  assert.deepEqual(leaves(progress), {
    'Progress/Total': '15',
    'Progress/Done': '15',
    'Progress/Succeeded': '10',
    'Progress/Failed': '5',
    'Progress/InDoubt': '0',
  });
  assert.deepEqual(leaves(agg), { 'Aggregate/200': '10', 'Aggregate/408': '2', 'Aggregate/410': '1', 'Aggregate/425': '2' });
  const r = leaves(results);
  const row = Object.keys(r)
    .find((k) => r[k] === dev(10))!
    .replace('/DeviceID', '');
  assert.deepEqual(
    [r[`${row}/Status`], r[`${row}/Cmd/1/Status`], r[`${row}/Cmd/2/Status`], r[`${row}/Cmd/2/Data`]],
    ['200', '200', '200', 'Meter'],
  );
  for (const i of [22, 23]) await devices[i]!.start();
});

test('bad fanouts get a DM status: unknown group, malformed commands, no targets, nothing to run', async () => {
  const ops = await onGateway([
    { kind: 'Add', path: './GwMO/Fanout/bad', format: 'node' },
    { kind: 'Add', path: './GwMO/Fanout/bad/Commands', value: '<Replace><CmdID>1</CmdID><Item>', format: 'xml' },
    { kind: 'Add', path: './GwMO/Fanout/bad/Commands', value: '<Sync><CmdID>1</CmdID></Sync>', format: 'xml' },
    { kind: 'Exec', path: './GwMO/Fanout/bad/Operations/Start' },
    {
      kind: 'Add',
      path: './GwMO/Fanout/bad/Commands',
      value: '<Get><CmdID>1</CmdID><Item><Target><LocURI>./DevInfo/Mod</LocURI></Target></Item></Get>',
      format: 'xml',
    },
    { kind: 'Exec', path: './GwMO/Fanout/bad/Operations/Start' },
    { kind: 'Add', path: './GwMO/Fanout/bad/Targets/1', value: './GwMO/DevInventory/Groups/nosuch' },
    { kind: 'Exec', path: './GwMO/Fanout/bad/Operations/Start' },
    { kind: 'Replace', path: './GwMO/Fanout/bad/Targets/1', value: './Elsewhere' },
    { kind: 'Exec', path: './GwMO/Fanout/bad/Operations/Start' },
    { kind: 'Add', path: './GwMO/DevInventory/Groups/empty', format: 'node' },
    { kind: 'Replace', path: './GwMO/Fanout/bad/Targets/1', value: './GwMO/DevInventory/Groups/empty' },
    { kind: 'Exec', path: './GwMO/Fanout/bad/Operations/Start' },
    { kind: 'Exec', path: './GwMO/Fanout/none/Operations/Start' },
    { kind: 'Delete', path: './GwMO/Fanout/bad' },
  ]);
  assert.deepEqual(
    ops.map((o) => o!.status),
    [200, 400, 406, 412, 200, 412, 200, 404, 200, 400, 200, 200, 412, 404, 200],
  );
});
