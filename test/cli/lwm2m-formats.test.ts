// `gwmo fleet --protocol lwm2m --lwm2m-version/--lwm2m-formats`: the devices register with what
// they were given, so the gateway speaks it; a format or version it does not know is one line.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli } from '../support/cli.ts';
import { startGateway, startServer } from '../support/gw-pair.ts';
import { GwmoProcess } from '../support/process.ts';

test('an LwM2M fleet registers as SenML-JSON-only 1.2 clients; a 1.0 fleet announces nothing', async (t) => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  let attached = 0;
  const all = new Promise<void>((resolve) => gw.gateway.events.on('attached', () => ++attached === 4 && resolve()));
  const json = new GwmoProcess([
    'fleet',
    '--count',
    '2',
    '--protocol',
    'lwm2m',
    '--server-url',
    `coap://${gw.gateway.lwm2mAddress}`,
    '--prefix',
    'js-',
    '--lwm2m-version',
    '1.2',
    '--lwm2m-formats',
    'json',
  ]);
  const tlv = new GwmoProcess([
    'fleet',
    '--count',
    '2',
    '--protocol',
    'lwm2m',
    '--server-url',
    `coap://${gw.gateway.lwm2mAddress}`,
    '--prefix',
    'tlv-',
    '--lwm2m-version',
    '1.0',
  ]);
  t.after(async () => {
    // the fleets first: they de-register with a gateway still there
    await json.stop();
    await tlv.stop();
    await gw.close();
    await srv.close();
  });
  await json.waitFor((l) => l.event === 'fleet.started');
  await tlv.waitFor((l) => l.event === 'fleet.started');
  await all;
  const reg = (ep: string) => gw.gateway.lwm2m!.registration(ep)!;
  assert.deepEqual([reg('js-0').version, reg('js-0').formats.announced], ['1.2', [110]]);
  assert.deepEqual([reg('tlv-1').version, reg('tlv-1').formats.announced], ['1.0', []]);
  assert.equal(gw.gstore.getDevice('tlv-1')!.protocol, 'LwM2M/1.0');
  assert.equal(gw.gstore.getDevice('js-1')!.info['Man'], 'gwmo', "object 3 was read in the device's format");
});

test('--lwm2m-formats and --lwm2m-version outside their lists are one line and exit 2', async () => {
  const f = await runCli(['fleet', '--protocol', 'lwm2m', '--lwm2m-formats', 'xml']);
  assert.equal(f.code, 2);
  assert.match(f.stderr, /^gwmo: --lwm2m-formats .*json, tlv, cbor, all/);
  const v = await runCli(['device', '--protocol', 'lwm2m', '--lwm2m-version', '2.0']);
  assert.equal(v.code, 2);
  assert.match(v.stderr, /^gwmo: --lwm2m-version .*1\.0, 1\.1, 1\.2/);
});
