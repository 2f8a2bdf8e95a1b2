// A command to one node of a large table (a device of the inventory, a group's member, a fanout's
// result) finds it by name: it does not read the whole table, which made a run of n such Gets
// cost n² rows (bench images: 10,000 devices). The values read are the same as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { JobState } from '../../src/gateway/fanout.ts';
import { nodeName } from '../../src/gateway/names.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';

test('Gets of one device, one member and one fanout result read only that row, and answer what the tables hold', async (t) => {
  const r = await startRig(t, { devices: 3 });
  const { gstore } = r.gw;
  const ids = r.devices.map((d) => String(d.tree.read('./DevInfo/DevId')));
  gstore.putGroup('g', '');
  gstore.setMembers(
    'g',
    ids.map((deviceId, i) => ({ name: `m${i}`, deviceId })),
  );
  gstore.putJob({ name: 'j', targets: [], commandsXml: '', state: JobState.Completed, createdAt: 1 });
  for (const [i, deviceId] of ids.entries())
    gstore.addResult({ job: 'j', deviceId, status: 200 + i, commands: [{ status: 200 + i, data: `d${i}` }], at: 1 });
  // the whole-table reads, counted on the gateway's real store
  const whole = { listDevices: 0, getGroup: 0, listResults: 0, listGroups: 0 };
  for (const k of Object.keys(whole) as (keyof typeof whole)[]) {
    const f = (gstore[k] as (...a: unknown[]) => unknown).bind(gstore);
    (gstore as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => (whole[k]++, f(...a));
  }
  const gets = [
    `./GwMO/DevInventory/Devices/${nodeName(ids[1]!)}/Protocol`,
    './GwMO/DevInventory/Groups/g/Members/m2',
    './GwMO/Fanout/j/Progress/Done',
    './GwMO/Fanout/j/Results/2/DeviceID',
    './GwMO/Fanout/j/Results/2/Cmd/1/Data',
    './GwMO/Fanout/j/Results/4/DeviceID',
    './GwMO/DevInventory/Devices/IMEI%3Anone/Protocol',
    './GwMO/DevInventory/Groups/g/Members/m9',
    './GwMO/DevInventory/Groups/nogroup/Members/m0',
  ];
  const run = await r.srv.server.gateways.run(
    GW_ID,
    gets.map((path) => ({ kind: 'Get' as const, path })),
    20_000,
  );
  assert.ok(run.done);
  const sorted = [...ids].sort();
  assert.deepEqual(
    run.operations.map((o) => [o.status, o.results?.[0]?.data]),
    [
      [200, 'OMA-DM/1.2'],
      [200, ids[2]],
      [200, '3'],
      [200, sorted[1]],
      [200, `d${ids.indexOf(sorted[1]!)}`],
      [404, undefined],
      [404, undefined],
      [404, undefined],
      [404, undefined],
    ],
  );
  assert.deepEqual(whole, { listDevices: 0, getGroup: 0, listResults: 0, listGroups: 0 });
});
