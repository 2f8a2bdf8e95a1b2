// Typed LwM2M values and the Serial reach the DM server through the gateway: a fanout Get's
// results carry Format int/float/bool, and DevInventory shows /3/0/2 as Serial.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { encodeFragment } from '../../src/protocol/index.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

test('a fanout Get of LwM2M values reaches the DM server typed, and the Serial read at Register is in DevInventory', async (t) => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  const attached = new Promise<void>((resolve) => gw.gateway.events.on('attached', (id: string) => id === 'lwT' && resolve()));
  const device = new Lwm2mDevice({ endpoint: 'lwT', server: `coap://${gw.gateway.lwm2mAddress}`, serial: 'SN-0042', formats: 'json' });
  t.after(async () => {
    await device.stop();
    await gw.close();
    await srv.close();
  });
  await device.start();
  await attached;
  assert.equal(gw.gstore.getDevice('lwT')!.info['Serial'], 'SN-0042');
  device.objects.get(1)!.get(0)!.set(6, true);

  const done = srv.alertOf('resultaggregation');
  for (const o of [
    { kind: 'Add' as const, path: './GwMO/Fanout/typed', format: 'node' },
    { kind: 'Add' as const, path: './GwMO/Fanout/typed/Targets/0', value: './GwMO/DevInventory/Devices/lwT' },
    {
      kind: 'Add' as const,
      path: './GwMO/Fanout/typed/Commands',
      format: 'xml',
      value: encodeFragment([
        { kind: 'Get', cmdId: 1, items: [{ target: { locUri: './3/0/9' } }] },
        { kind: 'Get', cmdId: 2, items: [{ target: { locUri: './3303/0/5700' } }] },
        { kind: 'Get', cmdId: 3, items: [{ target: { locUri: './1/0/6' } }] },
      ]),
    },
    { kind: 'Exec' as const, path: './GwMO/Fanout/typed/Operations/Start' },
  ])
    await srv.server.service.queue(GW_ID, o);
  await gw.gateway.checkIn();
  await done;

  const read = await srv.server.service.queue(GW_ID, { kind: 'Get', path: './GwMO/Fanout/typed/Results?list=StructData' });
  const serial = await srv.server.service.queue(GW_ID, { kind: 'Get', path: './GwMO/DevInventory/Devices/lwT/Serial' });
  await srv.server.service.notify(GW_ID);
  const [results, serialRead] = await srv.server.service.settle([read.id, serial.id], 20_000);
  const leaf = (uri: string): string | undefined => results!.results!.find((r) => r.uri.endsWith(uri))?.data as string | undefined;
  assert.deepEqual(
    [1, 2, 3].map((c) => [leaf(`/Cmd/${c}/Data`), leaf(`/Cmd/${c}/Format`)]),
    [
      ['87', 'int'],
      ['21.5', 'float'],
      ['true', 'bool'],
    ],
  );
  assert.equal(serialRead!.results![0]!.data, 'SN-0042');
});
