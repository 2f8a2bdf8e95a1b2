// A device over coaps:// behind the gateway, managed from the DM server: it registers with its PSK
// (the gateway reads its object 3 through the association for the inventory) and a fanout from
// the server reads and writes it over DTLS.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import { encodeFragment } from '../../src/protocol/index.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

test('an LwM2M device over DTLS is in the inventory and a fanout from the DM server reads and writes it', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  const gw = await startGateway(srv.url, { lwm2mPsks: [{ identity: 'psk-lw0', endpoint: 'lw0', key: key.toString('hex') }] });
  t.after(() => gw.close());
  assert.equal(gw.gateway.lwm2mAddress, undefined, 'no plain CoAP was asked for');
  const device = new Lwm2mDevice({
    endpoint: 'lw0',
    server: `coaps://${gw.gateway.lwm2mSecureAddress}`,
    psk: { identity: 'psk-lw0', key },
    manufacturer: 'Sensirion',
    model: 'T-S',
    firmware: '3.0',
  });
  const attached = once(gw.gateway.events, 'attached', { signal: AbortSignal.timeout(10_000) });
  await device.start();
  t.after(() => device.stop());
  await attached;
  const row = gw.gstore.getDevice('lw0')!;
  assert.deepEqual([row.protocol, row.mode, row.info['Man'], row.info['Mod']], ['LwM2M/1.1', 3, 'Sensirion', 'T-S']);
  const done = srv.alertOf('resultaggregation');
  const commands = encodeFragment([
    { kind: 'Get', cmdId: 1, items: [{ target: { locUri: './3/0/0' } }] },
    { kind: 'Replace', cmdId: 2, items: [{ target: { locUri: './3303/0/5750' }, data: 'vault' }] },
  ]);
  for (const o of [
    { kind: 'Add' as const, path: './GwMO/Fanout/sec', format: 'node' },
    { kind: 'Add' as const, path: './GwMO/Fanout/sec/Targets/0', value: './GwMO/DevInventory/Devices/lw0' },
    { kind: 'Add' as const, path: './GwMO/Fanout/sec/Commands', value: commands, format: 'xml' },
    { kind: 'Exec' as const, path: './GwMO/Fanout/sec/Operations/Start' },
  ])
    await srv.server.service.queue(GW_ID, o);
  await gw.gateway.checkIn();
  assert.equal((await done).items[0]!.data, '<Aggregate total="1"><Status code="200" count="1"/></Aggregate>');
  assert.equal(device.objects.get(3303)!.get(0)!.get(5750), 'vault');
  assert.deepEqual(gw.gstore.listResults('sec')[0]!.commands[0], { status: 200, data: 'Sensirion', format: 'chr' });
  assert.equal(gw.gateway.lwm2mSecure!.dtls.stats().established, 1);
});
