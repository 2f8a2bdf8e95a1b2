// A device job whose fanout came back with the device in doubt (an Add that went out, no Status) ends
// there: it does not follow the device to its next gateway, where the Add would run a second time.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DeviceJobs } from '../../src/server/device-jobs.ts';
import { GatewayService } from '../../src/server/gateways.ts';
import { ServerService } from '../../src/server/service.ts';
import type { GenericAlert } from '../../src/session/server/index.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

const aggregation = (correlator: string, xml: string): GenericAlert => ({
  code: 1226,
  correlator,
  items: [{ type: 'urn:oma:at:oma-gwmo:resultaggregation:1.0', format: 'xml', data: xml }],
});

test('a 408 with the device in doubt ends the job; a plain 408 from a gateway the device left waits for its next one', async () => {
  const store = new SqliteServerStore(':memory:');
  try {
    const clock = { now: () => 1_000 };
    const jobs = new DeviceJobs(store, new GatewayService(new ServerService(store, clock, 'srv'), store), clock.now);
    await store.setLocation('IMEI:1', 'GW:B', 1); // it moved on from GW:A
    const job = (id: string) =>
      store.putDeviceJob({
        id,
        deviceId: 'IMEI:1',
        commands: [{ kind: 'Add', path: './Vendor/X', value: 'x' }],
        state: 'dispatched',
        gatewayId: 'GW:A',
        fanout: `f-${id}`,
        correlator: `c-${id}`,
        createdAt: 1,
        updatedAt: 1,
      });
    await job('doubt');
    await job('plain');
    const dev = '<Device>IMEI:1</Device>';
    await jobs.onAlert(
      'GW:A',
      aggregation(
        'c-doubt',
        `<Aggregate total="1"><Status code="408" count="1">${dev}</Status><InDoubt count="1">${dev}</InDoubt></Aggregate>`,
      ),
    );
    await jobs.onAlert('GW:A', aggregation('c-plain', `<Aggregate total="1"><Status code="408" count="1">${dev}</Status></Aggregate>`));
    const doubt = (await store.getDeviceJob('doubt'))!;
    assert.deepEqual([doubt.state, doubt.status, doubt.inDoubt], ['done', 408, true]);
    assert.equal((await store.getDeviceJob('plain'))!.state, 'dispatched', 'never sent: it waits for the gateway the device is behind now');
  } finally {
    await store.close();
  }
});
