// `gwmo gateways …` against a live server, gateway and devices.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli } from '../support/cli.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

test('list, inventory, group-set, fanout and fanout-status from the command line', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const devices = await startDevices(gw.gateway.lanUrl, 3);
  try {
    await gw.gateway.checkIn();
    const api = ['--api', srv.url.replace(/\/dm$/, '/api')];
    const json = async (args: string[]) => {
      const r = await runCli(['gateways', ...api, ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout.toString());
    };
    assert.equal((await json(['list'])).items[0].deviceId, GW_ID);
    assert.equal((await json(['devices', GW_ID])).summary.Total, '3');
    await json(['group-set', GW_ID, 'two', 'IMEI:000000000000000', 'IMEI:000000000000001', '--description', 'first two']);
    const done = srv.alertOf('resultaggregation');
    await json(['fanout', GW_ID, '--name', 'cli', '--group', 'two', '--command', '{"kind":"Get","path":"./DevInfo/Lang"}']);
    await done;
    const status = await json(['fanout-status', GW_ID, 'cli']);
    assert.deepEqual([status.State, status.Aggregate], ['30', { 200: '2' }]);
    const bad = await runCli(['gateways', ...api, 'devices', 'IMEI:not-a-gateway']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^gwmo: GET .* HTTP 404: no device/);
  } finally {
    for (const d of devices) await d.stop();
    await gw.close();
    await srv.close();
  }
});
