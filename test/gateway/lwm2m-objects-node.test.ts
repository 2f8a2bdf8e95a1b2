// ./GwMO/DevInventory/Devices/<x>/Objects: the object links an LwM2M device registered, for the
// server (and its dashboard) to list its objects without a request to the device.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { LOCAL } from '../../src/tree/index.ts';
import { startDevices, startGateway, startServer } from '../support/gw-pair.ts';

function once(emitter: NodeJS.EventEmitter, name: string, id: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`no ${name} of ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (x: string): void => {
      if (x !== id) return;
      clearTimeout(t);
      emitter.off(name, on);
      resolve();
    };
    emitter.on(name, on);
  });
}

test('the inventory shows the objects an LwM2M device registered, no root link, and none for a DM device or once it de-registered', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url, { lwm2m: true });
  t.after(() => gw.close());
  const dm = await startDevices(gw.gateway.lanUrl, 1);
  t.after(async () => {
    for (const d of dm) await d.stop();
  });
  const attached = once(gw.gateway.events, 'attached', 'lw-links');
  const device = new Lwm2mDevice({ endpoint: 'lw-links', server: `coap://${gw.gateway.lwm2mAddress}` });
  t.after(() => device.stop());
  await device.start();
  await attached;

  const node = await gw.gateway.tree.get(LOCAL, './GwMO/DevInventory/Devices/lw-links/Objects');
  const links = String(node.value?.[0]?.data);
  assert.match(links, /^<\/1\/0>/);
  for (const l of ['</3/0>', '</5/0>', '</3303/0>'])
    assert.ok(
      links.split(',').some((x) => x.startsWith(l)),
      `${l} in ${links}`,
    );
  assert.ok(!links.includes('</>') && !links.includes('rt='), `no root link in ${links}`);

  const dmDevice = './GwMO/DevInventory/Devices/IMEI:000000000000000';
  assert.equal((await gw.gateway.tree.get(LOCAL, `${dmDevice}/Protocol`)).value?.[0]?.data, 'OMA-DM/1.2');
  assert.equal((await gw.gateway.tree.get(LOCAL, `${dmDevice}/Objects`)).status, 404);

  const gone = once(gw.gateway.events, 'detached', 'lw-links');
  await device.deregister();
  await gone;
  assert.equal((await gw.gateway.tree.get(LOCAL, './GwMO/DevInventory/Devices/lw-links/Objects')).status, 404);
});
