// Adaptation mode: LwM2M devices over real CoAP behind the gateway, managed from the DM server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { encodeFragment } from '../../src/protocol/index.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

function eventFor(emitter: NodeJS.EventEmitter, name: string, match: (id: string) => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`no ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (id: string): void => {
      if (!match(id)) return;
      clearTimeout(t);
      emitter.off(name, on);
      resolve();
    };
    emitter.on(name, on);
  });
}

test('LwM2M devices register, show in the inventory, and a mixed fanout reaches them and DM devices alike', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  const server = `coap://${gw.gateway.lwm2mAddress}`;
  const dm = await startDevices(gw.gateway.lanUrl, 2);
  const lw: Lwm2mDevice[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const attached = eventFor(gw.gateway.events, 'attached', (id) => id === `lw${i}`);
      const d = new Lwm2mDevice({ endpoint: `lw${i}`, server, manufacturer: 'Sensirion', model: `T-${i}`, firmware: '2.1' });
      await d.start();
      lw.push(d);
      await attached;
    }
    const row = gw.gstore.getDevice('lw1')!;
    assert.deepEqual(
      [row.protocol, row.mode, row.attached, row.info['Man'], row.info['Mod'], row.info['FwV'], row.localAddress],
      ['LwM2M/1.1', 3, true, 'Sensirion', 'T-1', '2.1', lw[1]!.address],
    );
    assert.deepEqual(gw.gateway.inventory.summary().byMode, { Transparent: 0, Proxy: 2, Adaptation: 3 });

    // Read, Write and Execute through one fanout to DM and LwM2M devices
    const commands = encodeFragment([
      { kind: 'Get', cmdId: 1, items: [{ target: { locUri: './DevInfo/Man' } }] },
      { kind: 'Replace', cmdId: 2, items: [{ target: { locUri: './3303/0/5750' }, data: 'freezer' }] },
    ]);
    const done = srv.alertOf('resultaggregation');
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/Fanout/mix', format: 'node' },
      ...['lw0', 'lw1', 'lw2', 'IMEI:000000000000000'].map((d, i) => ({
        kind: 'Add' as const,
        path: `./GwMO/Fanout/mix/Targets/${i}`,
        value: `./GwMO/DevInventory/Devices/${d}`,
      })),
      { kind: 'Add' as const, path: './GwMO/Fanout/mix/Commands', value: commands, format: 'xml' },
      { kind: 'Add' as const, path: './GwMO/Fanout/mix/Options/Retries', value: '0', format: 'int' },
      { kind: 'Exec' as const, path: './GwMO/Fanout/mix/Operations/Start' },
    ])
      await srv.server.service.queue(GW_ID, o);
    await gw.gateway.checkIn();
    // the DM device has no ./3303: its Replace is 404; the LwM2M ones take it
    assert.equal(
      (await done).items[0]!.data,
      '<Aggregate total="4"><Status code="200" count="3"/><Status code="404" count="1"><Device>IMEI:000000000000000</Device></Status></Aggregate>',
    );
    assert.equal(lw[2]!.objects.get(3303)!.get(0)!.get(5750), 'freezer');
    const results = gw.gstore.listResults('mix');
    assert.deepEqual(results.find((r) => r.deviceId === 'lw2')!.commands[0], { status: 200, data: 'Sensirion', format: 'chr' });

    srv.alerts.length = 0;
    const exec = srv.alertOf('resultaggregation');
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/Fanout/errs', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/Fanout/errs/Targets/0', value: './GwMO/DevInventory/Devices/lw0' },
      {
        kind: 'Add' as const,
        path: './GwMO/Fanout/errs/Commands',
        format: 'xml',
        value: encodeFragment([
          { kind: 'Exec', cmdId: 1, item: { target: { locUri: './3/0/4' } } },
          { kind: 'Get', cmdId: 2, items: [{ target: { locUri: './9999/0/1' } }] },
          { kind: 'Replace', cmdId: 3, items: [{ target: { locUri: './3/0/0' }, data: 'not allowed' }] },
          { kind: 'Replace', cmdId: 4, items: [{ target: { locUri: './3303/0/5700' }, data: 'warm' }] },
          { kind: 'Exec', cmdId: 5, item: { target: { locUri: './3/0/0' } } },
        ]),
      },
      { kind: 'Exec' as const, path: './GwMO/Fanout/errs/Operations/Start' },
    ])
      await srv.server.service.queue(GW_ID, o);
    await gw.gateway.checkIn();
    await exec;
    assert.equal(lw[0]!.reboots, 1, 'Execute /3/0/4 rebooted the device');
    assert.deepEqual(
      gw.gstore.listResults('errs')[0]!.commands.map((c) => c.status),
      [200, 404, 405, 400, 405],
    );
  } finally {
    for (const d of [...lw, ...dm]) await d.stop();
    await gw.close();
    await srv.close();
  }
});

test('lifetime expiry turns a device detached; registering again from a new address keeps its identity', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  const server = `coap://${gw.gateway.lwm2mAddress}`;
  try {
    let attached = eventFor(gw.gateway.events, 'attached', (id) => id === 'lwX');
    const first = new Lwm2mDevice({ endpoint: 'lwX', server, lifetimeS: 1 });
    await first.start();
    await attached;
    const firstAddress = first.address;
    const detached = eventFor(gw.gateway.events, 'detached', (id) => id === 'lwX');
    await first.stop(); // gone without De-register: the 1 s lifetime runs out
    await detached;
    assert.equal(gw.gstore.getDevice('lwX')!.attached, false);

    attached = eventFor(gw.gateway.events, 'attached', (id) => id === 'lwX');
    const again = new Lwm2mDevice({ endpoint: 'lwX', server, lifetimeS: 60 });
    await again.start();
    await attached;
    const row = gw.gstore.getDevice('lwX')!;
    assert.equal(row.attached, true);
    assert.notEqual(row.localAddress, firstAddress);
    assert.equal(row.localAddress, again.address);
    assert.equal(gw.gateway.inventory.summary().total, 1, 'one device, not two');
    const gone = eventFor(gw.gateway.events, 'detached', (id) => id === 'lwX');
    await again.deregister();
    await gone;
    await again.stop();
  } finally {
    await gw.close();
    await srv.close();
  }
});
