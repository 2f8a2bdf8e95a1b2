// LwM2M observations through the REST API over real HTTP: set one on a gateway, read the latest
// observed values of a device, refuse bad input, cancel.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

test('POST observations, GET observed values (latest per path, typed), bad input 400, DELETE', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  const dev = new Lwm2mDevice({ endpoint: 'lwA', server: `coap://${gw.gateway.lwm2mAddress}` });
  try {
    const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(10_000) });
    await dev.start();
    await registered;
    await gw.gateway.checkIn();
    const api = srv.url.replace(/\/dm$/, '/api');
    const base = `${api}/gateways/${encodeURIComponent(GW_ID)}/observations`;
    const post = (body: unknown): Promise<Response> =>
      fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const bad = await post({ name: 'bad', path: './3303/0/5700', devices: ['lwA'], attributes: { every: 5 } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /attribute "every" is not one of pmin, pmax, gt, lt, st/);
    const none = await post({ name: 'none', path: './3303/0/5700' });
    assert.equal(none.status, 400);
    assert.deepEqual(gw.gateway.observations!.list(), [], 'nothing reached the gateway');

    const first = srv.alertOf('org.gwmo.lwm2m.notify');
    const ok = await post({ name: 'temp', path: './3303/0/5700', devices: ['lwA'], attributes: { pmin: 1, pmax: 60 } });
    assert.equal(ok.status, 201, await ok.clone().text());
    await first;
    const read = async (): Promise<{ items: { path: string; record: Record<string, unknown>; gatewayId: string; via: string }[] }> =>
      (await (await fetch(`${api}/devices/lwA/observed`)).json()) as never;
    assert.deepEqual(
      (await read()).items.map((i) => [i.path, i.record, i.gatewayId, i.via]),
      [['/3303/0/5700', { v: 21.5 }, GW_ID, 'notify']],
    );

    srv.alerts.length = 0;
    const changed = srv.alertOf('org.gwmo.lwm2m.notify');
    dev.set(3303, 0, 5700, -30);
    await changed;
    assert.deepEqual(
      (await read()).items.map((i) => [i.path, i.record]),
      [['/3303/0/5700', { v: -30 }]],
      'the latest value, its type kept',
    );

    const twice = await post({ name: 'temp', path: './3/0/0', devices: ['lwA'] });
    assert.equal(twice.status, 409, 'creating never overwrites');
    assert.equal(gw.gateway.observations!.get('temp')!.path, './3303/0/5700');

    const del = await fetch(`${base}/temp`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal(gw.gateway.observations!.get('temp'), undefined);
    const again = await fetch(`${base}/temp`, { method: 'DELETE' });
    assert.equal(again.status, 404);
  } finally {
    await dev.stop();
    await gw.close();
    await srv.close();
  }
});
